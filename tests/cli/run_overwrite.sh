# An existing output is never overwritten without --force; with it, it is.
source "$(dirname "$0")/common.sh"
cd "$(mktemp -d ./overwrite.XXXX)"
expect_exit 0 log mpirun_moesim 2 run --quiet --set run.steps=20 --set mfld.particles=64 --out r.h5
before=$(md5sum r.h5)
expect_exit 2 log mpirun_moesim 2 run --quiet --set run.steps=20 --out r.h5
expect_in log "already exists.*--force"
[ "$(md5sum r.h5)" = "$before" ] || fail "the existing output was modified"
expect_exit 0 log mpirun_moesim 2 run --quiet --force --set run.steps=40 --set mfld.particles=64 --out r.h5
py -c "import h5py,sys; f=h5py.File('r.h5','r'); s=f['observables/objective/step'][-1]; sys.exit(0 if s==40 else 1)" ||
    fail "--force did not replace the file"
echo "refused without --force, replaced with it"
