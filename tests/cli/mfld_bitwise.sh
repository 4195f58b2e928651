# The default run at 1, 2, 3 and 4 ranks gives bitwise-identical /particles and
# /observables (h5diff with no tolerance); only provenance such as nranks may differ.
source "$(dirname "$0")/common.sh"
dir=$1
for np in 2 3 4; do
    for group in /particles /observables /config; do
        h5diff "$dir/mfld-np1.h5" "$dir/mfld-np$np.h5" "$group" "$group" >"$dir/h5diff-$np.log" 2>&1 ||
            { cat "$dir/h5diff-$np.log"; fail "np1 and np$np differ in $group"; }
    done
    echo "np1 == np$np: /particles /observables /config identical"
done
