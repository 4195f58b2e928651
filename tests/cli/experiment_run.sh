# One registered experiment's tiny config at NP ranks (moesim_add_experiment_checks): exits 0
# with a complete output DIR/NAME-npNP.h5, and keeps no job checkpoint once complete.
source "$(dirname "$0")/common.sh"
np=$1 dir=$2 name=$3 config=$4
mkdir -p "$dir"
out="$dir/$name-np$np.h5"
rm -f "$out" "$dir/$name-np$np.ckpt.h5"
expect_exit 0 "$dir/run-np$np.log" mpirun_moesim "$np" run "$config" --out "$out"
expect_in "$dir/run-np$np.log" "results: .*$name-np$np.h5"
expect_exit 0 "$dir/inspect-np$np.log" "$MOESIM" inspect "$out"
expect_in "$dir/inspect-np$np.log" "status: complete"
echo "$name at $np ranks: complete"
