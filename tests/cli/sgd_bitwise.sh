# The short sgd run at 1, 2, 3 and 4 ranks gives bitwise-identical /particles, /estimates
# and /observables apart from the wall-clock phase_time (h5diff, no tolerance).
source "$(dirname "$0")/common.sh"
dir=$1
for np in 2 3 4; do
    for object in /particles /estimates /observables/train_loss /observables/test_loss \
        /observables/overlap_moe /observables/overlap_moe_routed /observables/overlap_vanilla /observables/router_accuracy \
        /observables/expert_load; do
        h5diff "$dir/sgd-np1.h5" "$dir/sgd-np$np.h5" "$object" "$object" >"$dir/h5diff-$np.log" 2>&1 ||
            { cat "$dir/h5diff-$np.log"; fail "np1 and np$np differ in $object"; }
    done
    echo "np1 == np$np: /particles, /estimates and /observables identical"
done
