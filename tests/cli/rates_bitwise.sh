# A small rates run (k-means++ inits, so EM also has to survive label switching) at 1, 2, 3
# and 4 ranks: every run completes with finite slopes inside their intervals and all fits
# converged, and /estimates is bitwise identical across rank counts and schedules (h5diff,
# no tolerance).
source "$(dirname "$0")/common.sh"
dir=$PWD
cat >"$dir/rates-small.toml" <<'TOML'
[run]
experiment = "rates"
seed = 12

[rates]
n = [300, 600, 1200]
replicates = 5
init = "kmeans++"
restarts = 2
bootstrap = 200
TOML
rm -f "$dir/bad.h5"
# Inconsistent true parameters and an unsorted grid are config errors (exit 2) naming the key.
expect_exit 2 "$dir/bad-bias.log" "$MOESIM" run "$dir/rates-small.toml" --out "$dir/bad.h5" --force \
    --set "rates.gate_bias=[0.1]"
expect_in "$dir/bad-bias.log" "rates.gate_bias.*has 1 values, expected 2"
expect_exit 2 "$dir/bad-n.log" "$MOESIM" run "$dir/rates-small.toml" --out "$dir/bad.h5" --force \
    --set "rates.n=[600, 300]"
expect_in "$dir/bad-n.log" "rates.n.*strictly increasing"
# A family's own config errors surface before any output exists.
expect_exit 2 "$dir/bad-prompt.log" "$MOESIM" run "$dir/rates-small.toml" --out "$dir/bad.h5" --force \
    --set 'rates.gate="contaminated"' --set 'rates.init="near_truth"'
expect_in "$dir/bad-prompt.log" "rates.expert_slope.*rates-contaminated.toml is a complete example"
[ ! -e "$dir/bad.h5" ] || fail "a config error left an output file behind"
for np in 1 2 3 4; do
    out="$dir/rates-np$np.h5"
    rm -f "$out"
    expect_exit 0 "$dir/run-np$np.log" mpirun_moesim "$np" run "$dir/rates-small.toml" --out "$out"
    expect_in "$dir/run-np$np.log" "slope voronoi"
    expect_in "$dir/run-np$np.log" "fits converged +15 of 15"
done
py - "$dir/rates-np1.h5" <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    assert f.attrs["status"].decode().strip("\0") == "complete", f.attrs["status"]
    est = f["estimates"]
    for name in ["voronoi", "gate_mass", "gate_slope", "expert_slope", "expert_bias", "variance"]:
        g = est[name]
        assert list(g["n"][:]) == [300, 600, 1200], g["n"][:]
        loss = g["loss"][:]
        assert loss.shape == (5, 3) and np.all(np.isfinite(loss)) and np.all(loss >= 0), name
        slope, lo, hi = g["slope"][()], g["ci_low"][()], g["ci_high"][()]
        assert np.isfinite(slope) and lo <= slope <= hi, (name, slope, lo, hi)
        # The slope is the least-squares line through log(mean loss) vs log n.
        x, y = np.log([300.0, 600.0, 1200.0]), np.log(loss.mean(axis=0))
        assert abs(np.polyfit(x, y, 1)[0] - slope) < 1e-9, (name, slope)
    fits = est["fits"]
    assert list(fits["n_index"][:]) == [i // 5 for i in range(15)]
    assert list(fits["replicate"][:]) == [i % 5 for i in range(15)]
    assert np.all(fits["converged"][:] == 1) and np.all(fits["iterations"][:] >= 1)
    assert np.all(np.isfinite(fits["objective"][:]))
print("ok", sys.argv[1])
PY
for np in 2 3 4; do
    h5diff "$dir/rates-np1.h5" "$dir/rates-np$np.h5" /estimates /estimates >"$dir/h5diff-$np.log" 2>&1 ||
        { cat "$dir/h5diff-$np.log"; fail "np1 and np$np differ in /estimates"; }
    echo "np1 == np$np: /estimates identical"
done
# The static schedule (fixed by cost up front) gives the same /estimates as the dynamic one.
rm -f "$dir/rates-static.h5"
expect_exit 0 "$dir/run-static.log" mpirun_moesim 3 run "$dir/rates-small.toml" --out "$dir/rates-static.h5" \
    --set 'rates.schedule="static"'
h5diff "$dir/rates-np1.h5" "$dir/rates-static.h5" /estimates /estimates >"$dir/h5diff-static.log" 2>&1 ||
    { cat "$dir/h5diff-static.log"; fail "static and dynamic schedules differ in /estimates"; }
echo "dynamic np1 == static np3: /estimates identical"
# The plotting helper reads the run and writes its figure.
py "$MOESIM_SOURCE_DIR/python/plot_rates.py" "$dir/rates-np1.h5" -o "$dir/rates.png" >"$dir/plot.log" 2>&1 ||
    { cat "$dir/plot.log"; fail "plot_rates.py failed"; }
[ -s "$dir/rates.png" ] || fail "plot_rates.py wrote no figure"
# The top-K gate (generalised EM with a Nelder-Mead gate step) at 1 and 3 ranks.
cat >"$dir/rates-topk.toml" <<'TOML'
[run]
experiment = "rates"
seed = 13

[rates]
gate = "topk"
top_k = 2
k_true = 3
k_fit = 3
gate_slope = [2.0, 0.0, -2.0]
gate_bias = [0.0, 0.5, 0.0]
expert_slope = [1.0, 0.0, -1.0]
expert_bias = [1.0, -1.0, 0.5]
variance = [0.2, 0.25, 0.2]
n = [400, 800]
replicates = 3
init_noise = 0.2
bootstrap = 100
TOML
for np in 1 3; do
    rm -f "$dir/topk-np$np.h5"
    expect_exit 0 "$dir/topk-np$np.log" mpirun_moesim "$np" run "$dir/rates-topk.toml" --out "$dir/topk-np$np.h5"
    expect_in "$dir/topk-np$np.log" "fits converged +6 of 6"
done
h5diff "$dir/topk-np1.h5" "$dir/topk-np3.h5" /estimates /estimates >"$dir/h5diff-topk.log" 2>&1 ||
    { cat "$dir/h5diff-topk.log"; fail "top-K: np1 and np3 differ in /estimates"; }
echo "top-K np1 == np3: /estimates identical"
