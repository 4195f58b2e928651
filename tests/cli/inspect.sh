# `moesim inspect` on a finished run and on the file of a run killed mid-way.
source "$(dirname "$0")/common.sh"
cd "$(mktemp -d ./inspect.XXXX)"
expect_exit 0 log mpirun_moesim 2 run --quiet --set run.steps=100 --set run.frame_every=25 --out done.h5
expect_exit 0 out "$MOESIM" inspect done.h5
expect_in out "complete"
expect_in out "/particles/theta/value.*float64.*\[5\]\[1024\]\[16\]"
expect_in out "objective.*step 100"
expect_in out "experiment.*mfld"
expect_in out "git_commit"
h5dump -H done.h5 >/dev/null || fail "h5dump cannot read the output"

# A long run, killed with SIGKILL (whole process group) once a few frames are flushed.
setsid "$MPIEXEC" -n 2 "$MOESIM" run --quiet --set run.steps=1000000 --set run.frame_every=5 \
    --set mfld.particles=256 --out killed.h5 >killed.log 2>&1 &
pid=$!
for _ in $(seq 1 100); do
    sleep 0.2
    py -c "import h5py,sys; f=h5py.File('killed.h5','r'); sys.exit(0 if f['observables/objective/step'].shape[0]>=3 else 1)" \
        2>/dev/null && break
done
kill -9 -- "-$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
expect_exit 0 out "$MOESIM" inspect killed.h5
expect_in out "running"
expect_in out "incomplete"
expect_in out "/particles/theta/value"
py -c "import h5py; f=h5py.File('killed.h5','r'); v=f['observables/objective/value'][:]; assert len(v)>=3, len(v); print(len(v), 'frames readable')"
