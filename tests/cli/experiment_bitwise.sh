# The tiny config of experiment NAME at 1, 2, 3 and 4 ranks: every dataset but the wall-clock
# /timing is bitwise identical (tests/cli/compare_outputs.py).
source "$(dirname "$0")/common.sh"
dir=$1 name=$2
for np in 2 3 4; do
    py "$(dirname "$0")/compare_outputs.py" "$dir/$name-np1.h5" "$dir/$name-np$np.h5" \
        >"$dir/compare-$np.log" 2>&1 || { cat "$dir/compare-$np.log"; fail "np1 and np$np differ"; }
    echo "np1 == np$np: $(tail -1 "$dir/compare-$np.log")"
done
