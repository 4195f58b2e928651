# The activation gate in a small rates run at 1, 2, 3 and 4 ranks and the temperature gate at
# 1 and 3 (fewer launches: MPI start-up dominates on a loaded machine): every run completes,
# reports the temperature losses, and /estimates is bitwise identical across rank counts
# (h5diff, no tolerance). Bad activation-gate truths and activations are config errors
# naming the key.
source "$(dirname "$0")/common.sh"
dir=$PWD
for gate in temperature activation; do
    cat >"$dir/$gate.toml" <<TOML
[run]
experiment = "rates"
seed = 21

[rates]
gate = "$gate"
gate_activation = "sigmoid"
temperature = 0.7
gate_slope = [2.0, 0.0]
gate_bias = [0.3, 0.0]
n = [200, 400]
replicates = 3
init_noise = 0.3
max_iterations = 200
bootstrap = 100
TOML
done
expect_exit 2 "$dir/bad-slope.log" "$MOESIM" run "$dir/activation.toml" --out "$dir/bad.h5" \
    --force --set "rates.gate_slope=[2.0, 0.5]"
expect_in "$dir/bad-slope.log" "rates.gate_slope.*last expert's gate slope to be 0"
expect_exit 2 "$dir/bad-act.log" "$MOESIM" run "$dir/activation.toml" --out "$dir/bad.h5" \
    --force --set 'rates.gate_activation="relu"'
expect_in "$dir/bad-act.log" "rates.gate_activation"
expect_exit 2 "$dir/bad-tau.log" "$MOESIM" run "$dir/temperature.toml" --out "$dir/bad.h5" \
    --force --set "rates.temperature=0"
expect_in "$dir/bad-tau.log" "rates.temperature"
ranks_temperature="1 3"
ranks_activation="1 2 3 4"
for gate in temperature activation; do
    ranks_var="ranks_$gate"
    ranks=${!ranks_var}
    for np in $ranks; do
        out="$dir/$gate-np$np.h5"
        rm -f "$out"
        expect_exit 0 "$dir/$gate-np$np.log" mpirun_moesim "$np" run "$dir/$gate.toml" --out "$out"
        expect_in "$dir/$gate-np$np.log" "slope temperature"
    done
    py - "$dir/$gate-np1.h5" <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    assert f.attrs["status"].decode().strip("\0") == "complete", f.attrs["status"]
    est = f["estimates"]
    names = ["voronoi", "gate_mass", "gate_slope", "expert_slope", "expert_bias", "variance",
             "temperature", "gate_slope_scaled"]
    for name in names:
        loss = est[name]["loss"][:]
        assert loss.shape == (3, 2) and np.all(np.isfinite(loss)) and np.all(loss >= 0), name
    # The Voronoi total includes |tau^ - tau*|.
    assert np.all(est["voronoi"]["loss"][:] >= est["temperature"]["loss"][:])
    assert np.all(np.isfinite(est["fits"]["objective"][:]))
print("ok", sys.argv[1])
PY
    for np in $ranks; do
        [ "$np" = 1 ] && continue
        h5diff "$dir/$gate-np1.h5" "$dir/$gate-np$np.h5" /estimates /estimates \
            >"$dir/h5diff-$gate-$np.log" 2>&1 ||
            { cat "$dir/h5diff-$gate-$np.log"; fail "$gate: np1 and np$np differ in /estimates"; }
        echo "$gate np1 == np$np: /estimates identical"
    done
done
