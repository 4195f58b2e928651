# Helpers for the Slurm tests: SLURM_CONF points at the local cluster (local_slurm.sh).
source "$MOESIM_SOURCE_DIR/tests/cli/common.sh"
: "${SLURM_CONF:?SLURM_CONF must point at the test cluster}"
export SLURM_CONF
jobs_dir="$MOESIM_SOURCE_DIR/jobs"

# job_state JOBID: e.g. RUNNING, PENDING, COMPLETED, FAILED.
job_state() { scontrol show job "$1" 2>/dev/null | grep -oE 'JobState=[A-Z_]+' | cut -d= -f2; }

# wait_for_job JOBID SECONDS: waits until the job has ended; fails if it is not COMPLETED.
wait_for_job() {
    local state=""
    for _ in $(seq 1 "$(($2 * 2))"); do
        state=$(job_state "$1")
        case "$state" in COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY) break ;; esac
        sleep 0.5
    done
    [ "$state" = COMPLETED ] || { scontrol show job "$1" >&2; fail "job $1 ended as '$state'"; }
}

complete_output() {
    py -c "import h5py,sys; f=h5py.File(sys.argv[1],'r'); s=f.attrs['status'].decode().rstrip(chr(0)); sys.exit(0 if s=='complete' else 1)" "$1" ||
        fail "$1 is not a complete moesim output"
}

# eligible JOBID: succeeds once the job's EligibleTime has passed.
eligible() {
    local at
    at=$(scontrol show job "$1" | grep -oE 'EligibleTime=[0-9T:-]+' | cut -d= -f2)
    [ -n "$at" ] && [ "$(date +%s)" -ge "$(date -d "$at" +%s)" ]
}

# wait_for_requeued_job JOBID: waits until a job that requeues itself has ended. Slurm holds
# a requeued job until its old credential expires (cred_expire, 10 s on the test cluster;
# starting it sooner fails it with "Job credential revoked"), then the scheduler may take up
# to a minute to notice, so once it is eligible it is let start now. Fails unless it
# COMPLETED after exactly one requeue.
wait_for_requeued_job() {
    local state=""
    for _ in $(seq 1 600); do
        state=$(job_state "$1")
        case "$state" in
        PENDING) ! eligible "$1" || scontrol update JobId="$1" StartTime=now 2>/dev/null || true ;;
        # `scontrol requeue` cancels the job before it queues it again: CANCELLED before the
        # first restart is that passing state, not the end.
        CANCELLED) scontrol show job "$1" | grep -q "Restarts=0" || break ;;
        COMPLETED | FAILED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY) break ;;
        esac
        sleep 0.5
    done
    [ "$state" = COMPLETED ] || { scontrol show job "$1" >&2; cat "moesim-$1.out" >&2; fail "job $1 ended as '$state'"; }
    scontrol show job "$1" | grep -q "Restarts=1" || fail "job $1 was not requeued exactly once"
}
