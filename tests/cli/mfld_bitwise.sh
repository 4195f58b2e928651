# The default run at 1, 2, 3 and 4 ranks gives bitwise-identical /particles and
# /observables (h5diff, no tolerance), and the same resolved config apart from run.out.
source "$(dirname "$0")/common.sh"
dir=$1
for np in 2 3 4; do
    for group in /particles /observables; do
        h5diff "$dir/mfld-np1.h5" "$dir/mfld-np$np.h5" "$group" "$group" >"$dir/h5diff-$np.log" 2>&1 ||
            { cat "$dir/h5diff-$np.log"; fail "np1 and np$np differ in $group"; }
    done
    py - "$dir/mfld-np1.h5" "$dir/mfld-np$np.h5" <<'PY' || fail "np1 and np$np configs differ"
import sys, h5py
def config(path):
    text = h5py.File(path, "r")["config"][()].decode()
    return [line for line in text.splitlines() if not line.startswith("out =")]
sys.exit(0 if config(sys.argv[1]) == config(sys.argv[2]) else 1)
PY
    echo "np1 == np$np: /particles and /observables identical, same config"
done
