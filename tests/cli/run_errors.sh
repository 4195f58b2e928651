# Bad input is exit 2 with a located message, and leaves no output file behind.
source "$(dirname "$0")/common.sh"
cd "$(mktemp -d ./errors.XXXX)"

printf '[run]\nsteps = 10\n[mfld]\nparticles = 64\nbogus_key = 3\n' >unknown.toml
expect_exit 2 log mpirun_moesim 2 run unknown.toml --out a.h5
expect_in log "unknown.toml:5:1: key 'mfld.bogus_key'"
[ ! -e a.h5 ] || fail "an output file was created for a bad config"

printf '[mfld]\nparticles = "many"\n' >type.toml
expect_exit 2 log mpirun_moesim 2 run type.toml --out a.h5
expect_in log "type.toml:2:[0-9]+: key 'mfld.particles'"

printf '[mfld]\nlearning_rate = -1.0\n' >range.toml
expect_exit 2 log mpirun_moesim 2 run range.toml --out a.h5
expect_in log "range.toml:2:[0-9]+: key 'mfld.learning_rate'.*range"

printf '[mfld]\nparticles = 64\ndim = [\n' >syntax.toml
expect_exit 2 log mpirun_moesim 2 run syntax.toml --out a.h5
expect_in log "syntax.toml:[34]"

expect_exit 2 log mpirun_moesim 2 run --set mfld.particles --out a.h5
expect_in log "--set"
expect_exit 2 log mpirun_moesim 2 run --set mfld.nope=1 --out a.h5
expect_in log "mfld.nope"
expect_exit 2 log mpirun_moesim 1 run --set mfld.dim=abc --out a.h5
expect_in log "mfld.dim"

expect_exit 2 log mpirun_moesim 2 run missing.toml --out a.h5
expect_in log "missing.toml.*does not exist"
expect_exit 2 log mpirun_moesim 1 run --experiment nosuch --out a.h5
expect_in log "unknown experiment 'nosuch'.*mfld"
expect_exit 2 log mpirun_moesim 2 run --out no/such/dir/a.h5
expect_in log "directory 'no/such/dir' does not exist"
expect_exit 2 log "$MOESIM" run --no-such-flag
[ ! -e a.h5 ] || fail "an output file was created by a failed run"
echo "all error cases exit 2 with located messages"
