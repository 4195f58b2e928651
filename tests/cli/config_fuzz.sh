# Every broken config in tests/cli/fuzz/ is exit 2 with a message that names a location
# (file:line) or a key, within a bounded time (never a crash or a hang), and leaves no output.
source "$(dirname "$0")/common.sh"
cd "$(mktemp -d ./fuzz.XXXX)"
cases=("$MOESIM_SOURCE_DIR"/tests/cli/fuzz/*.toml)
[ ${#cases[@]} -ge 20 ] || fail "fuzz corpus has only ${#cases[@]} cases"
for case in "${cases[@]}"; do
    name=$(basename "$case")
    code=0
    timeout 60 "$MPIEXEC" -n 2 "$MOESIM" run "$case" --out fuzz.h5 >"$name.log" 2>&1 || code=$?
    [ "$code" -eq 2 ] || { cat "$name.log"; fail "$name: expected exit 2, got $code"; }
    grep -Eq "$name:[0-9]+|key '[a-z_.]+'" "$name.log" || { cat "$name.log"; fail "$name: message names no location or key"; }
    [ ! -e fuzz.h5 ] || fail "$name: left an output file"
    echo "ok $name: $(grep -m1 'moesim: error' "$name.log")"
done
