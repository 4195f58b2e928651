# The sgd options of the d sweep under mpiexec with NP ranks: a router trained by online
# k-means for the first 150 of 300 steps (then by the loss) separates the two clusters by
# their means, and sgd.lr_scaling = inverse_dim is the same run as the scaled step sizes given
# directly. Writes DIR/sgd-npNP.h5 for the bitwise comparison across rank counts.
source "$(dirname "$0")/common.sh"
np=$1
dir=$2
mkdir -p "$dir"
out="$dir/sgd-np$np.h5"
rm -f "$out"
# 3 experts in blocks of 1: at 4 ranks one rank owns no expert; a batch of 40 in blocks of 16
# leaves rank 3 without samples.
common=(-e sgd --set run.steps=300 --set run.frame_every=50 --set run.block_size=16
    --set sgd.dim=16 --set sgd.batch=40 --set sgd.test_samples=200 --set sgd.experts=3
    --set sgd.vanilla_width=5 --set sgd.router_kmeans_steps=150 --set sgd.lr_router_kmeans=0.5)
expect_exit 0 "$dir/run-np$np.log" mpirun_moesim "$np" run --out "$out" "${common[@]}" \
    --set sgd.lr_scaling=inverse_dim --set sgd.lr_reference_dim=32 --set sgd.lr_experts=0.05 \
    --set sgd.lr_vanilla=0.05
py - "$out" <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    assert f.attrs["status"].decode().strip("\0") == "complete"
    obs = f["observables"]
    steps = obs["router_accuracy/step"][:]
    accuracy = obs["router_accuracy/value"][:]
    # k-means on the inputs alone finds the cluster means (rho = 3, d = 16): after 150 steps
    # each cluster goes mostly to one expert; at step 0 (random router) neither does.
    at = list(steps).index(150)
    assert np.all(accuracy[at] >= 0.9), accuracy[at]
    assert np.all(accuracy[0] < 0.9), accuracy[0]
    assert np.all(np.isfinite(obs["test_loss/value"][:]))
print("ok", sys.argv[1])
PY
if [ "$np" = 2 ]; then
    # Step sizes 0.05 at reference d 32 scaled to d 16 are exactly 0.1: the same bits.
    expect_exit 0 "$dir/direct.log" mpirun_moesim 2 run --out "$dir/direct.h5" --force \
        "${common[@]}" --set sgd.lr_experts=0.1 --set sgd.lr_vanilla=0.1
    for object in /particles /observables/overlap_vanilla /observables/test_loss; do
        h5diff "$out" "$dir/direct.h5" "$object" "$object" >"$dir/h5diff-direct.log" 2>&1 ||
            { cat "$dir/h5diff-direct.log"; fail "inverse_dim scaling differs from the scaled step sizes in $object"; }
    done
    echo "lr_scaling = inverse_dim == step sizes times lr_reference_dim/d"
fi
# A bad choice is a config error naming the key, before any output exists.
rm -f "$dir/bad-np$np.h5"
expect_exit 2 "$dir/bad-np$np.log" mpirun_moesim "$np" run -e sgd --out "$dir/bad-np$np.h5" \
    --set sgd.lr_scaling=sqrt_dim
expect_in "$dir/bad-np$np.log" "sgd.lr_scaling"
[ ! -e "$dir/bad-np$np.h5" ] || fail "a config error left an output file"
