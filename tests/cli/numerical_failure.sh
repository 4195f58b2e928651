# A blow-up (mfld, sgd) is exit 1 naming the quantity and the step, with status failed and every good
# frame kept.
source "$(dirname "$0")/common.sh"
cd "$(mktemp -d ./nan.XXXX)"
expect_exit 1 log mpirun_moesim 2 run --quiet --set mfld.l2=10 --set mfld.learning_rate=1000 \
    --set run.frame_every=1 --set run.steps=1000 --set mfld.particles=64 --out blowup.h5
expect_in log "numerical failure: (objective|train_loss) is (inf|-inf|nan) at step [0-9]+"
expect_exit 0 out "$MOESIM" inspect blowup.h5
expect_in out "status: failed"
py -c "
import h5py, numpy as np
v = h5py.File('blowup.h5', 'r')['observables/objective/value'][:]
assert len(v) >= 1 and np.all(np.isfinite(v)), v
print(len(v), 'good frames kept')"

# sgd: an overflowing weight is caught before renormalisation could hide it.
expect_exit 1 log mpirun_moesim 2 run --experiment sgd --quiet --set sgd.lr_experts=1e5 \
    --set sgd.lr_vanilla=1e5 --set sgd.normalize=false --set run.steps=500 --out sgd_blowup.h5
expect_in log "numerical failure: (MoE|vanilla) (residual|weights|output weights) is (inf|-inf|nan) at step [0-9]+"
expect_exit 0 out "$MOESIM" inspect sgd_blowup.h5
expect_in out "status: failed"
