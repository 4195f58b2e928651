# Experiment NAME stopped mid-run at 3 ranks (a test hook requests the stop exactly as a signal
# would: HOOK=VALUE is MOESIM_STOP_AT=STEP or MOESIM_STOP_AFTER_JOBS=K) exits 75 with status
# stopped and a checkpoint; restarted at 2 ranks it completes, bitwise identical to the
# uninterrupted run at 1 rank in every dataset but /timing.
source "$(dirname "$0")/common.sh"
dir=$1 name=$2 config=$3 hook=$4
work="$dir/stop_restart"
rm -rf "$work" && mkdir -p "$work"
out="$work/$name.h5"
expect_exit 75 "$work/stop.log" env "$hook" "$MPIEXEC" -n 3 "$MOESIM" run "$config" --out "$out"
expect_in "$work/stop.log" "stopped by a signal .*; checkpoint '.*$name.ckpt.h5' written"
expect_exit 0 "$work/inspect.log" "$MOESIM" inspect "$out"
expect_in "$work/inspect.log" "status: stopped"
expect_in "$work/inspect.log" "checkpoint: .*$name.ckpt.h5: (state at step|[0-9]+ of [0-9]+ jobs done)"
expect_exit 0 "$work/restart.log" mpirun_moesim 2 run --restart "$work/$name.ckpt.h5"
expect_exit 0 "$work/inspect2.log" "$MOESIM" inspect "$out"
expect_in "$work/inspect2.log" "status: complete"
py "$(dirname "$0")/compare_outputs.py" "$dir/$name-np1.h5" "$out" >"$work/compare.log" 2>&1 ||
    { cat "$work/compare.log"; fail "stopped at 3 ranks and restarted at 2 differs from np1"; }
echo "stopped ($hook) at 3 ranks, restarted at 2: $(tail -1 "$work/compare.log")"
