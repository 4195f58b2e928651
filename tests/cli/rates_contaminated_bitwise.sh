# Small rates runs of the contaminated gates (constant weight with a Laplace f0 and a
# vanishing lambda*; softmax weight with a prompt merging into f0) at 1, 2, 3 and 4 ranks:
# every run completes with the family's losses and all fits converged, and /estimates is
# bitwise identical across rank counts (h5diff, no tolerance). Bad family keys are config
# errors (exit 2) naming the key.
source "$(dirname "$0")/common.sh"
dir=$PWD
cat >"$dir/contaminated.toml" <<'TOML'
[run]
experiment = "rates"
seed = 21

[rates]
gate = "contaminated"
f0 = "laplace"
f0_slope = [-1.0]
f0_scale = 0.5
mixing = 0.4
mixing_exponent = 0.3
expert_slope = [1.0]
expert_bias = [0.5]
variance = [0.3]
n = [300, 600, 1200]
replicates = 4
bootstrap = 200
TOML
cat >"$dir/softmax-contaminated.toml" <<'TOML'
[run]
experiment = "rates"
seed = 22

[rates]
gate = "softmax_contaminated"
dim = 2
f0_slope = [-1.0, 0.0]
f0_scale = 0.5
prompt_gap_exponent = 0.3
gate_slope = [1.5, -0.5]
gate_bias = [-0.5]
expert_slope = [1.0, 0.5]
expert_bias = [0.5]
variance = [0.3]
n = [300, 600, 1200]
replicates = 4
init_noise = 0.2
bootstrap = 200
TOML
# Config errors name the key.
bad() { # bad CONFIG PATTERN --set ...
    local config=$1 pattern=$2
    shift 2
    expect_exit 2 "$dir/bad.log" "$MOESIM" run "$dir/$config" --out "$dir/bad.h5" --force "$@"
    expect_in "$dir/bad.log" "$pattern"
}
bad contaminated.toml "rates.expert_slope.*has 2 values, expected 1" --set "rates.expert_slope=[1.0, 2.0]"
bad contaminated.toml "rates.f0_slope.*has 2 values, expected 1" --set "rates.f0_slope=[1.0, 2.0]"
bad contaminated.toml "rates.init.*near_truth" --set 'rates.init="kmeans++"'
bad contaminated.toml "rates.prompt_gap_parts" --set 'rates.prompt_gap_parts=["slope", "scale"]'
bad contaminated.toml "rates.f0_mean" --set 'rates.f0_mean="cosine"'
bad contaminated.toml "rates.mixing" --set rates.mixing=1.5
bad contaminated.toml "rates.f0" --set 'rates.f0="cauchy"'
bad softmax-contaminated.toml "rates.gate_bias.*has 2 values, expected 1" --set "rates.gate_bias=[0.1, 0.2]"

check() { # check FILE LOSS...: finite losses, slopes = least-squares lines, fits converged
    py - "$@" <<'PY'
import sys, h5py, numpy as np
path, names = sys.argv[1], sys.argv[2:]
with h5py.File(path, "r") as f:
    assert f.attrs["status"].decode().strip("\0") == "complete", f.attrs["status"]
    est = f["estimates"]
    assert sorted(k for k in est.keys() if k != "fits") == sorted(names), list(est.keys())
    for name in names:
        g = est[name]
        loss = g["loss"][:]
        assert loss.shape == (4, 3) and np.all(np.isfinite(loss)) and np.all(loss >= 0), name
        x, y = np.log([300.0, 600.0, 1200.0]), np.log(loss.mean(axis=0))
        assert abs(np.polyfit(x, y, 1)[0] - g["slope"][()]) < 1e-9, name
        assert g["ci_low"][()] <= g["slope"][()] <= g["ci_high"][()], name
    fits = est["fits"]
    assert np.all(fits["converged"][:] == 1) and np.all(np.isfinite(fits["objective"][:]))
print("ok", path)
PY
}
for gate in contaminated softmax-contaminated; do
    for np in 1 2 3 4; do
        out="$dir/$gate-np$np.h5"
        rm -f "$out"
        expect_exit 0 "$dir/$gate-np$np.log" mpirun_moesim "$np" run "$dir/$gate.toml" --out "$out"
        expect_in "$dir/$gate-np$np.log" "slope combined"
        expect_in "$dir/$gate-np$np.log" "fits converged +12 of 12"
    done
    for np in 2 3 4; do
        h5diff "$dir/$gate-np1.h5" "$dir/$gate-np$np.h5" /estimates /estimates >"$dir/h5diff.log" 2>&1 ||
            { cat "$dir/h5diff.log"; fail "$gate: np1 and np$np differ in /estimates"; }
        echo "$gate np1 == np$np: /estimates identical"
    done
done
check "$dir/contaminated-np1.h5" combined mixing prompt_slope prompt_bias prompt_variance
check "$dir/softmax-contaminated-np1.h5" combined gate_slope gate_bias prompt_slope prompt_bias prompt_variance gate_bias_exp
