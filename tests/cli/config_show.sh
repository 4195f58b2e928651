# `config show` prints a commented default that runs as a config file; --help and --version.
source "$(dirname "$0")/common.sh"
cd "$(mktemp -d ./config.XXXX)"
expect_exit 0 shown "$MOESIM" config show mfld
expect_in shown "^\[mfld\]"
expect_in shown "^# .*particles"
expect_in shown "^particles = 1024"
expect_exit 0 log mpirun_moesim 2 run shown --quiet --set run.steps=10 --out fromshow.h5
expect_exit 0 list "$MOESIM" config list
expect_in list "^mfld"
expect_exit 2 log "$MOESIM" config show nosuch
expect_in log "unknown experiment"
expect_exit 0 help "$MOESIM" --help
expect_in help "run"
expect_in help "inspect"
expect_exit 0 help "$MOESIM" run --help
expect_in help "--set"
expect_exit 0 version "$MOESIM" --version
expect_in version "[0-9]+\.[0-9]+\.[0-9]+"
echo "config show round-trips; help and version work"
