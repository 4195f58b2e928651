# A job stopped mid-way by SIGUSR1 (scancel --signal=USR1 --batch, what --signal=B:USR1@T
# does at the time limit) checkpoints, exits 75, requeues itself, resumes from the
# checkpoint, and ends with an output identical to an uninterrupted run.
source "$(dirname "$0")/common.sh"
cd "$(mktemp -d ./requeue.XXXX)"
start=$SECONDS
args=(--set run.steps=6000 --set mfld.particles=128 --set run.frame_every=20)
jid=$(sbatch --parsable "$jobs_dir/slurm/moesim.sbatch" "${args[@]}")
for _ in $(seq 1 600); do
    py -c "import h5py,sys; sys.exit(0 if h5py.File('moesim-$jid.h5','r')['observables/objective/step'].shape[0] >= 3 else 1)" 2>/dev/null && break
    sleep 0.1
done
scancel --signal=USR1 --batch "$jid"
# Slurm holds a requeued job ~2 minutes before it may start again; once it is back in the
# queue, let it start now so the test stays short. The requeue itself is the script's.
for _ in $(seq 1 600); do
    state=$(job_state "$jid")
    if [ "$state" = PENDING ]; then
        scontrol update JobId="$jid" StartTime=now
        break
    fi
    [ "$state" = COMPLETED ] && fail "job finished before it was stopped"
    sleep 0.1
done
wait_for_job "$jid" 240
scontrol show job "$jid" | grep -q "Restarts=1" || fail "job $jid was not requeued exactly once"
expect_in "moesim-$jid.out" "stopped by a signal at step [0-9]+; checkpoint 'moesim-$jid.ckpt.h5' written"
expect_in "moesim-$jid.out" "requeueing job $jid"
expect_in "moesim-$jid.out" "resuming from moesim-$jid.ckpt.h5"
complete_output "moesim-$jid.h5"

expect_exit 0 log mpirun_moesim 2 run --quiet "${args[@]}" --out uninterrupted.h5
for group in /particles /observables; do
    h5diff uninterrupted.h5 "moesim-$jid.h5" "$group" "$group" || fail "requeued run differs in $group"
done
echo "job $jid stopped, requeued, resumed and matched the uninterrupted run in $((SECONDS - start)) s"
