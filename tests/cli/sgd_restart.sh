# sgd checkpointed at 2 ranks and restarted at 1, 2, 3 and 4 ranks finishes with the same
# bits as an uninterrupted run in /particles, /estimates and /observables. The router is trained by k-means until step 120, across the
# checkpoint of step 100.
source "$(dirname "$0")/common.sh"
cd "$(mktemp -d ./sgd_restart.XXXX)"
common=(-e sgd --quiet --set run.frame_every=20 --set run.block_size=16 --set sgd.dim=16
    --set sgd.batch=40 --set sgd.test_samples=200 --set sgd.experts=3 --set sgd.vanilla_width=5
    --set sgd.router_kmeans_steps=120 --set sgd.lr_scaling=inverse_dim --set sgd.lr_reference_dim=32)
expect_exit 0 log mpirun_moesim 2 run "${common[@]}" --set run.steps=300 --out full.h5
# Stops at step 130 with checkpoints every 50: the last is at step 100, and the output
# holds frames up to 130 that the restart must discard.
expect_exit 0 log mpirun_moesim 2 run "${common[@]}" --set run.steps=130 --checkpoint-every 50 \
    --out part.h5
[ "$(py -c "import h5py; print(h5py.File('part.ckpt.h5','r').attrs['checkpoint_step'])")" = 100 ] ||
    fail "expected the checkpoint of step 100"
for np in 1 2 3 4; do
    mkdir "np$np" && cp part.h5 part.ckpt.h5 "np$np/"
    (cd "np$np" && expect_exit 0 log mpirun_moesim "$np" run --quiet --restart part.ckpt.h5 \
        --set run.steps=300)
    for object in /particles /estimates /observables; do
        h5diff full.h5 "np$np/part.h5" "$object" "$object" ||
            fail "restart at $np ranks differs in $object"
    done
    echo "restart at $np ranks == uninterrupted run"
done
