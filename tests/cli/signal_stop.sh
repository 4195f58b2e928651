# SIGUSR1 to mpirun (as Slurm's --signal does): the job checkpoints, marks the output
# stopped and exits 75, also when a second signal follows at once; restarting finishes it,
# identical to an uninterrupted run.
source "$(dirname "$0")/common.sh"
cd "$(mktemp -d ./signal.XXXX)"
common=(--set mfld.particles=128 --set run.frame_every=20 --set run.steps=6000)
"$MPIEXEC" -n 2 "$MOESIM" run "${common[@]}" --out sig.h5 >run.log 2>&1 &
pid=$!
# Signal once a few frames are on disk, i.e. mid-run.
for _ in $(seq 1 300); do
    sleep 0.1
    py -c "import h5py,sys; sys.exit(0 if h5py.File('sig.h5','r')['observables/objective/step'].shape[0] >= 3 else 1)" 2>/dev/null && break
done
kill -USR1 "$pid"
sleep 0.05
kill -USR1 "$pid" 2>/dev/null || true # a second signal during the checkpoint changes nothing
code=0
wait "$pid" || code=$?
[ "$code" -eq 75 ] || { cat run.log; fail "expected exit 75 after SIGUSR1, got $code"; }
expect_in run.log "stopped by a signal at step [0-9]+; checkpoint 'sig.ckpt.h5' written"
expect_exit 0 out "$MOESIM" inspect sig.h5
expect_in out "status: stopped"
step=$(py -c "import h5py; print(h5py.File('sig.ckpt.h5','r').attrs['checkpoint_step'])")
[ "$step" -gt 0 ] && [ "$step" -lt 6000 ] || fail "checkpoint step $step is not mid-run"

expect_exit 0 log mpirun_moesim 3 run --quiet --restart sig.ckpt.h5
expect_exit 0 out "$MOESIM" inspect sig.h5
expect_in out "status: complete"
expect_exit 0 log mpirun_moesim 2 run --quiet "${common[@]}" --out full.h5
for group in /particles /observables; do
    h5diff full.h5 sig.h5 "$group" "$group" || fail "stopped-and-resumed run differs in $group"
done
echo "stopped at step $step, resumed at 3 ranks, identical to the uninterrupted run"
