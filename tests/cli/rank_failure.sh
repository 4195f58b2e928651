# One rank failing never hangs the job: an exception on one rank aborts it with
# "[rank r/N]" and exit 1; kill -9 of one rank's process ends the job. Flushed frames stay
# readable and inspect reports the run as incomplete. Every wait here is bounded.
source "$(dirname "$0")/common.sh"
cd "$(mktemp -d ./failure.XXXX)"
common=(--set mfld.particles=256 --set run.frame_every=10 --set run.steps=1000000)

code=0
MOESIM_INJECT_FAULT=1:55 timeout 120 "$MPIEXEC" -n 2 "$MOESIM" run "${common[@]}" --out fault.h5 >fault.log 2>&1 || code=$?
[ "$code" -ne 124 ] || fail "the job hung after one rank failed"
[ "$code" -ne 0 ] || fail "the job succeeded despite a failed rank"
expect_in fault.log "\[rank 1/2\] moesim: error: injected fault at step 55"
expect_exit 0 out "$MOESIM" inspect fault.h5
expect_in out "incomplete"
py -c "import h5py; s=h5py.File('fault.h5','r')['observables/objective/step'][:]; assert list(s[:6])==[0,10,20,30,40,50], s"

setsid "$MPIEXEC" -n 2 "$MOESIM" run "${common[@]}" --out kill.h5 >kill.log 2>&1 &
launcher=$!
victim=""
for _ in $(seq 1 300); do
    sleep 0.1
    if py -c "import h5py,sys; sys.exit(0 if h5py.File('kill.h5','r')['observables/objective/step'].shape[0] >= 3 else 1)" 2>/dev/null; then
        victim=$(pgrep -f -n -- "moesim run .*--out kill.h5" || true)
        break
    fi
done
[ -n "$victim" ] || { kill -9 -- "-$launcher"; fail "the run never got going"; }
kill -9 "$victim"
code=0
for _ in $(seq 1 600); do
    kill -0 "$launcher" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$launcher" 2>/dev/null; then
    kill -9 -- "-$launcher"
    fail "the job was still running 60 s after one rank was killed"
fi
wait "$launcher" || code=$?
[ "$code" -ne 0 ] || fail "mpirun reported success after a rank was killed"
expect_exit 0 out "$MOESIM" inspect kill.h5
expect_in out "incomplete"
py -c "import h5py; n=h5py.File('kill.h5','r')['particles/theta/value'].shape[0]; assert n>=3, n; print(n, 'frames readable')"
