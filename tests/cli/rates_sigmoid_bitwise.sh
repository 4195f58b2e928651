# A small over-specified sigmoid-gate rates run (ReLU experts, least squares by
# Levenberg-Marquardt) at 1, 2, 3 and 4 ranks: every run completes, all fits converge, the
# losses are finite and the slopes sit inside their intervals, and /estimates is bitwise
# identical across rank counts (h5diff, no tolerance). Bad sigmoid keys are config errors.
source "$(dirname "$0")/common.sh"
dir=$PWD
cat >"$dir/rates-sigmoid-small.toml" <<'TOML'
[run]
experiment = "rates"
seed = 21

[rates]
gate = "sigmoid"
expert_kind = "relu"
dim = 1
k_true = 2
k_fit = 3
gate_slope = [0.0, 2.0]
gate_bias = [0.0, -0.5]
expert_slope = [1.0, -1.5]
expert_bias = [0.5, 0.3]
noise_variance = 0.1
n = [300, 600, 1200]
replicates = 4
restarts = 2
init_noise = 0.3
parameter_bound = 5.0
bootstrap = 200
TOML
expect_exit 2 "$dir/bad-init.log" "$MOESIM" run "$dir/rates-sigmoid-small.toml" --out "$dir/bad.h5" \
    --force --set 'rates.init="kmeans++"'
expect_in "$dir/bad-init.log" "rates.init.*near_truth"
expect_exit 2 "$dir/bad-kind.log" "$MOESIM" run "$dir/rates-sigmoid-small.toml" --out "$dir/bad.h5" \
    --force --set 'rates.expert_kind="cosine"'
expect_in "$dir/bad-kind.log" "rates.expert_kind"
expect_exit 2 "$dir/bad-slope.log" "$MOESIM" run "$dir/rates-sigmoid-small.toml" --out "$dir/bad.h5" \
    --force --set "rates.expert_slope=[1.0]"
expect_in "$dir/bad-slope.log" "rates.expert_slope.*has 1 values, expected 2"
expect_exit 2 "$dir/bad-noise.log" "$MOESIM" run "$dir/rates-sigmoid-small.toml" --out "$dir/bad.h5" \
    --force --set "rates.noise_variance=-1.0"
expect_in "$dir/bad-noise.log" "rates.noise_variance"
expect_exit 2 "$dir/bad-bound.log" "$MOESIM" run "$dir/rates-sigmoid-small.toml" --out "$dir/bad.h5" \
    --force --set "rates.parameter_bound=1.5"
expect_in "$dir/bad-bound.log" "rates.parameter_bound.*must exceed"
for np in 1 2 3 4; do
    out="$dir/sigmoid-np$np.h5"
    rm -f "$out"
    expect_exit 0 "$dir/run-np$np.log" mpirun_moesim "$np" run "$dir/rates-sigmoid-small.toml" --out "$out"
    expect_in "$dir/run-np$np.log" "slope voronoi"
    expect_in "$dir/run-np$np.log" "fits converged +12 of 12"
done
py - "$dir/sigmoid-np1.h5" <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    assert f.attrs["status"].decode().strip("\0") == "complete", f.attrs["status"]
    est = f["estimates"]
    for name in ["voronoi", "gate_mass", "gate_slope", "expert_slope", "expert_bias"]:
        g = est[name]
        assert list(g["n"][:]) == [300, 600, 1200], g["n"][:]
        loss = g["loss"][:]
        assert loss.shape == (4, 3) and np.all(np.isfinite(loss)) and np.all(loss >= 0), name
        slope, lo, hi = g["slope"][()], g["ci_low"][()], g["ci_high"][()]
        assert np.isfinite(slope) and lo <= slope <= hi, (name, slope, lo, hi)
    # The objective is -RSS/n: about minus the noise variance for a good fit.
    obj = est["fits"]["objective"][:]
    assert np.all(np.abs(obj + 0.1) < 0.03), obj
    assert np.all(est["fits"]["converged"][:] == 1)
print("ok", sys.argv[1])
PY
for np in 2 3 4; do
    h5diff "$dir/sigmoid-np1.h5" "$dir/sigmoid-np$np.h5" /estimates /estimates >"$dir/h5diff-$np.log" 2>&1 ||
        { cat "$dir/h5diff-$np.log"; fail "np1 and np$np differ in /estimates"; }
    echo "np1 == np$np: /estimates identical"
done
