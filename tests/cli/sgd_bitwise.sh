# The short sgd run at 1, 2, 3 and 4 ranks gives bitwise-identical /particles, /estimates
# and /observables (h5diff, no tolerance; wall-clock timers are under /timing).
source "$(dirname "$0")/common.sh"
dir=$1
for np in 2 3 4; do
    for object in /particles /estimates /observables; do
        h5diff "$dir/sgd-np1.h5" "$dir/sgd-np$np.h5" "$object" "$object" >"$dir/h5diff-$np.log" 2>&1 ||
            { cat "$dir/h5diff-$np.log"; fail "np1 and np$np differ in $object"; }
    done
    echo "np1 == np$np: /particles, /estimates and /observables identical"
done
