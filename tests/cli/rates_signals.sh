# rates (a grid of fits on the job driver) survives preemption with nothing finished lost:
# - SIGUSR1 to mpirun mid-run (what --signal=B:USR1 forwards): exit 75, status stopped, a
#   checkpoint holding every finished fit; restarted at 3 ranks, /estimates is bitwise that
#   of an uninterrupted run;
# - SIGTERM to every rank (what Slurm sends at preemption): the same, exit 75;
# - SIGTERM to scripts/mpirun (the README's launcher), which passes it on as SIGUSR1: exit 75;
# - kill -9 of one rank: the job ends, and the fits of the last periodic checkpoint survive it.
# The time from the signal to the end of the job (the stop latency) is printed.
source "$(dirname "$0")/common.sh"
cd "$(mktemp -d ./signals.XXXX)"
grid=(-e rates --set 'rates.n=[2000, 4000, 8000, 16000, 32000]' --set rates.replicates=16
    --set rates.bootstrap=100 --checkpoint-every 2)
expect_exit 0 full.log mpirun_moesim 2 run --quiet "${grid[@]}" --out full.h5

jobs_done() { # jobs in checkpoint $1 (0 if absent or being replaced)
    py -c "import h5py,sys; print(int(h5py.File(sys.argv[1],'r').attrs['jobs_done']))" "$1" 2>/dev/null || echo 0
}
# start_run NAME [LAUNCHER]: the grid at 2 ranks in the background; returns once its
# checkpoint holds at least 4 finished fits (mid-run).
start_run() {
    setsid "${2:-$MPIEXEC}" -n 2 "$MOESIM" run "${grid[@]}" --out "$1.h5" >"$1.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 600); do
        sleep 0.1
        [ "$(jobs_done "$1.ckpt.h5")" -ge 4 ] && return 0
        kill -0 "$pid" 2>/dev/null || break
    done
    cat "$1.log"
    fail "$1: no checkpoint with 4 fits appeared while the run was going"
}
ranks_of() { pgrep -P "$1" -f "$MOESIM"; }
# finish NAME SIGNAL_TIME EXPECTED_EXIT: waits for the run, checks the stopped state, restarts
# it at 3 ranks and compares with the uninterrupted run.
finish() {
    local name=$1 start=$2 want=$3 code=0
    wait "$pid" || code=$?
    local latency
    latency=$(py -c "import time; print(f'{time.time() - $start:.2f}')")
    [ "$code" -eq "$want" ] || { cat "$name.log"; fail "$name: expected exit $want, got $code"; }
    expect_exit 0 "$name.inspect" "$MOESIM" inspect "$name.h5"
    expect_in "$name.inspect" "status: stopped"
    local kept
    kept=$(jobs_done "$name.ckpt.h5")
    [ "$kept" -ge 4 ] && [ "$kept" -lt 80 ] || fail "$name: checkpoint holds $kept of 80 fits"
    expect_exit 0 "$name.restart.log" mpirun_moesim 3 run --restart "$name.ckpt.h5"
    expect_in "$name.restart.log" "rates: $kept of 80 jobs already done"
    h5diff full.h5 "$name.h5" /estimates /estimates >"$name.diff" 2>&1 ||
        { cat "$name.diff"; fail "$name: the restarted run differs from the uninterrupted one"; }
    [ ! -e "$name.ckpt.h5" ] || fail "$name: the completed run kept its job checkpoint"
    echo "$name: exit $code ${latency}s after the signal, $kept fits kept, restart at 3 ranks identical"
}

start_run usr1
t=$(py -c "import time; print(time.time())")
kill -USR1 "$pid"
finish usr1 "$t" 75
expect_in usr1.log "stopped by a signal after [0-9]+ of 80 jobs; checkpoint 'usr1.ckpt.h5' written"

start_run term
t=$(py -c "import time; print(time.time())")
kill -TERM $(ranks_of "$pid")
finish term "$t" 75

start_run term_launcher "$MOESIM_SOURCE_DIR/scripts/mpirun"
t=$(py -c "import time; print(time.time())")
kill -TERM "$pid"
finish term_launcher "$t" 75

start_run kill9
kept=$(jobs_done kill9.ckpt.h5)
victim=$(ranks_of "$pid" | tail -1)
kill -9 "$victim"
t=$(py -c "import time; print(time.time())")
code=0
timeout 60 tail --pid="$pid" -f /dev/null || fail "kill9: the job did not end within 60 s"
wait "$pid" || code=$?
[ "$code" -ne 0 ] || fail "kill9: the job exited 0 after a rank was killed"
after=$(jobs_done kill9.ckpt.h5)
[ "$after" -ge "$kept" ] || fail "kill9: the checkpoint lost fits ($kept before, $after after)"
expect_exit 0 kill9.restart.log mpirun_moesim 2 run --restart kill9.ckpt.h5
h5diff full.h5 kill9.h5 /estimates /estimates >kill9.diff 2>&1 ||
    { cat kill9.diff; fail "kill9: the restarted run differs from the uninterrupted one"; }
echo "kill9: job ended $(py -c "import time; print(f'{time.time() - $t:.2f}')")s after the kill, $after fits survived, restart identical"
