# sbatch jobs/slurm/moesim.sbatch: a short run finishes, its output is complete and named
# after the job id, and the log is next to it.
source "$(dirname "$0")/common.sh"
cd "$(mktemp -d ./single.XXXX)"
start=$SECONDS
jid=$(sbatch --parsable "$jobs_dir/slurm/moesim.sbatch" --set run.steps=200 --set mfld.particles=128)
wait_for_job "$jid" 120
complete_output "moesim-$jid.h5"
expect_in "moesim-$jid.out" "results: moesim-$jid.h5"
echo "job $jid complete in $((SECONDS - start)) s"
