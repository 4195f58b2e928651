# The default experiment under mpiexec with NP ranks: exits 0, says where the results are,
# and writes a complete file whose objective decreases (read back with h5py).
source "$(dirname "$0")/common.sh"
np=$1
dir=$2
mkdir -p "$dir"
out="$dir/mfld-np$np.h5"
rm -f "$out"
expect_exit 0 "$dir/run-np$np.log" mpirun_moesim "$np" run --out "$out"
expect_in "$dir/run-np$np.log" "results: .*mfld-np$np.h5"
expect_in "$dir/run-np$np.log" "objective \(last frame\)"
py - "$out" "$np" <<'PY'
import sys, h5py, numpy as np
path, nranks = sys.argv[1], int(sys.argv[2])
with h5py.File(path, "r") as f:
    assert f.attrs["status"].decode().strip("\0") == "complete", f.attrs["status"]
    assert int(f.attrs["nranks"]) == nranks
    theta = f["particles/theta/value"]
    steps = f["particles/theta/step"][:]
    obj = f["observables/objective/value"][:]
    assert theta.shape[0] == len(steps) == len(obj) and theta.ndim == 3, theta.shape
    assert np.all(np.diff(steps) > 0)
    assert np.all(np.isfinite(obj))
    # The run must show learning: the last objective well below the first.
    assert obj[-1] < 0.5 * obj[0], (obj[0], obj[-1])
    assert "[mfld]" in f["config"][()].decode()
print("ok", path)
PY
