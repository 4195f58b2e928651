# A job stopped mid-way by SIGUSR1 (scancel --signal=USR1 --batch, what --signal=B:USR1@T
# does at the time limit) checkpoints, exits 75, requeues itself, resumes from the
# checkpoint, and ends with an output identical to an uninterrupted run.
source "$(dirname "$0")/common.sh"
cd "$(mktemp -d ./requeue.XXXX)"
start=$SECONDS
args=(--set run.steps=6000 --set mfld.particles=128 --set run.frame_every=20)
jid=$(sbatch --parsable "$jobs_dir/slurm/moesim.sbatch" "${args[@]}")
wait_until 120 "h5py.File('moesim-$jid.h5', 'r')['observables/objective/step'].shape[0] >= 3" ||
    { scontrol show job "$jid" >&2; fail "job $jid wrote no frames within two minutes"; }
scancel --signal=USR1 --batch "$jid"
wait_for_requeued_job "$jid"
expect_in "moesim-$jid.out" "stopped by a signal at step [0-9]+; checkpoint 'moesim-$jid.ckpt.h5' written"
expect_in "moesim-$jid.out" "requeueing job $jid"
expect_in "moesim-$jid.out" "resuming from moesim-$jid.ckpt.h5"
complete_output "moesim-$jid.h5"

expect_exit 0 log mpirun_moesim 2 run --quiet "${args[@]}" --out uninterrupted.h5
for group in /particles /observables; do
    h5diff uninterrupted.h5 "moesim-$jid.h5" "$group" "$group" || fail "requeued run differs in $group"
done
echo "job $jid stopped, requeued, resumed and matched the uninterrupted run in $((SECONDS - start)) s"
