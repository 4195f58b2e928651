# A rates grid (the job driver) stopped mid-way by SIGUSR1 (scancel --signal=USR1 --batch)
# saves every finished fit, exits 75, requeues itself, resumes skipping the finished fits,
# and ends with /estimates identical to an uninterrupted run.
source "$(dirname "$0")/common.sh"
cd "$(mktemp -d ./requeue_rates.XXXX)"
start=$SECONDS
args=(-e rates --set 'rates.n=[2000, 4000, 8000, 16000, 32000]' --set rates.replicates=16
    --set rates.bootstrap=100 --set run.checkpoint_every=2)
jid=$(sbatch --parsable "$jobs_dir/slurm/moesim.sbatch" "${args[@]}")
wait_until 120 "h5py.File('moesim-$jid.ckpt.h5', 'r').attrs['jobs_done'] >= 4" ||
    { scontrol show job "$jid" >&2; fail "job $jid checkpointed no fits within two minutes"; }
scancel --signal=USR1 --batch "$jid"
wait_for_requeued_job "$jid"
expect_in "moesim-$jid.out" "stopped by a signal after [0-9]+ of 80 jobs; checkpoint 'moesim-$jid.ckpt.h5' written"
expect_in "moesim-$jid.out" "requeueing job $jid"
expect_in "moesim-$jid.out" "resuming from moesim-$jid.ckpt.h5"
expect_in "moesim-$jid.out" "rates: [0-9]+ of 80 jobs already done"
complete_output "moesim-$jid.h5"

expect_exit 0 log mpirun_moesim 2 run --quiet "${args[@]}" --out uninterrupted.h5
h5diff uninterrupted.h5 "moesim-$jid.h5" /estimates /estimates || fail "requeued run differs in /estimates"
echo "rates job $jid stopped, requeued, resumed and matched the uninterrupted run in $((SECONDS - start)) s"
