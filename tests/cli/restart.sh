# Checkpoint at 2 ranks, restart at 1, 2, 3 and 4 ranks: the finished output is bitwise
# identical to an uninterrupted run. Also: an incompatible config is refused (exit 2).
source "$(dirname "$0")/common.sh"
cd "$(mktemp -d ./restart.XXXX)"
common=(--quiet --set mfld.particles=200 --set run.block_size=16 --set run.frame_every=20)

expect_exit 0 log mpirun_moesim 2 run "${common[@]}" --set run.steps=300 --out full.h5
# Stops at step 130 with checkpoints every 50: the last one is at step 100, and the output
# holds frames up to 130 that the restart must discard.
expect_exit 0 log mpirun_moesim 2 run "${common[@]}" --set run.steps=130 --checkpoint-every 50 --out part.h5
[ "$(py -c "import h5py; print(h5py.File('part.ckpt.h5','r').attrs['checkpoint_step'])")" = 100 ] ||
    fail "expected the checkpoint of step 100"

for np in 1 2 3 4; do
    mkdir "np$np" && cp part.h5 part.ckpt.h5 "np$np/"
    (cd "np$np" && expect_exit 0 log mpirun_moesim "$np" run --quiet --restart part.ckpt.h5 --set run.steps=300)
    for group in /particles /observables; do
        h5diff full.h5 "np$np/part.h5" "$group" "$group" || fail "restart at $np ranks differs in $group"
    done
    echo "restart at $np ranks == uninterrupted run"
done

expect_exit 2 log mpirun_moesim 2 run --restart part.ckpt.h5 --set mfld.dim=8
expect_in log "differs .* in: mfld.dim"
expect_exit 2 log mpirun_moesim 2 run --restart part.ckpt.h5 --experiment nosuch
head -c 3000 part.ckpt.h5 >truncated.ckpt.h5
expect_exit 2 log mpirun_moesim 2 run --restart truncated.ckpt.h5
expect_in log "cannot restart from 'truncated.ckpt.h5'"
printf 'not hdf5' >garbage.ckpt.h5
expect_exit 2 log mpirun_moesim 2 run --restart garbage.ckpt.h5
expect_in log "garbage.ckpt.h5.*not an HDF5 file"
expect_exit 2 log mpirun_moesim 2 run --restart part.h5
expect_in log "not a readable moesim checkpoint"
