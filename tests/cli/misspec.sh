# The misspec experiment end to end: bad input is exit 2 naming the key and leaves no file; a
# small phase diagram at 2 ranks shows what theory predicts (MODELS.md section 4): EM at
# rho = 1 recovers the means, its collapse boundary sits at rho_c = sqrt(1 + SNR) within the
# grid spacing, and the hard-assignment estimate matches the closed-form fixed point within a
# tolerance from n; the plotting helper draws it.
source "$(dirname "$0")/common.sh"
cd "$(mktemp -d ./misspec.XXXX)"
bad() { # bad LOG PATTERN --set ...: exit 2, the pattern in the message, no output
    local log=$1 pattern=$2
    shift 2
    expect_exit 2 "$log" "$MOESIM" run -e misspec --out bad.h5 "$@"
    expect_in "$log" "$pattern"
    [ ! -e bad.h5 ] || fail "a config error left bad.h5 behind"
}
bad means.log "key 'misspec.means'.*has 3 values; geometry \"custom\" needs misspec.components x misspec.dim = 2 x 2 = 4" \
    --set misspec.geometry=custom --set misspec.dim=2 --set 'misspec.means=[1.0, 0.0, -1.0]'
bad rho.log "key 'misspec.rho'.*element \[1\]: value -0.5 is out of range" --set 'misspec.rho=[1.0, -0.5]'
bad rho0.log "key 'misspec.rho'.*element \[0\]: value 0.0 is out of range" --set 'misspec.rho=[0.0]'
bad simplex.log "key 'misspec.snr'.*cannot be made by geometry \"simplex\" with 4 components in dimension 2" \
    --set misspec.geometry=simplex --set misspec.components=4 --set misspec.dim=2
bad symmetric.log "key 'misspec.snr'.*geometry \"symmetric\" with 3 components" --set misspec.components=3
bad weights.log "key 'misspec.weights'.*sum to 0.9" --set 'misspec.weights=[0.5, 0.4]'
bad methods.log "key 'misspec.methods'.*'soft' is not one of: em, hard" --set 'misspec.methods=["soft"]'

# +-mu at three SNRs, rho in steps of 0.05 around each threshold, n = 20000.
expect_exit 0 run.log mpirun_moesim 2 run -e misspec --out phase.h5 --set misspec.samples=20000 \
    --set misspec.replicates=4 --set 'misspec.snr=[0.5, 2.0, 8.0]' \
    --set 'misspec.rho=[0.5, 1.0, 1.1, 1.15, 1.2, 1.25, 1.3, 1.35, 1.6, 1.65, 1.7, 1.75, 1.8, 1.85, 2.9, 2.95, 3.0, 3.05, 3.1]'
expect_in run.log "em fits converged"
py - phase.h5 <<'PY'
import sys, h5py, numpy as np
from math import erf, exp, pi, sqrt
f = h5py.File(sys.argv[1], "r")
em, hard, t = f["estimates/em"], f["estimates/hard"], f["estimates/threshold"]
rho, snr, n = em["rho"][:], em["snr"][:], 20000
assert em["mse"].shape == (4, len(rho), len(snr)) and em["population"].shape == (len(rho), len(snr))
assert np.allclose(t["rho_collapse_theory"][:], np.sqrt(1 + snr))
# EM at rho = 1 recovers the means: squared error of order d sigma^2 / (n pi_k), and the
# population fixed point is the truth.
i1 = list(rho).index(1.0)
assert np.all(em["mse"][:, i1, :] < 10 * 2 / n), em["mse"][:, i1, :]
assert np.all(em["population"][i1, :] < 1e-12), em["population"][i1, :]
# The collapse boundary: the measured crossing within one grid spacing (0.05) of theory.
for name in ("rho_collapse_measured", "rho_collapse_population"):
    err = np.abs(t[name][:] - t["rho_collapse_theory"][:])
    assert np.all(err <= 0.05 + 1e-9), (name, t[name][:], t["rho_collapse_theory"][:])
# A few percent above the threshold the means sit at the centre, a few percent below not.
for j, s in enumerate(snr):
    rc, r = sqrt(1 + s), sqrt(s)
    above = [i for i in range(len(rho)) if 1.03 * rc <= rho[i] <= 1.1 * rc]
    below = [i for i in range(len(rho)) if 0.9 * rc <= rho[i] <= 0.97 * rc]
    assert above and below, (s, rho)
    d = em["centre_distance"][:].mean(axis=0)[:, j] / r
    assert np.all(d[above] < 0.1) and np.all(d[below] > 0.15), (s, d[above], d[below])
# Hard assignment against its closed-form fixed point, within 5 standard errors: the estimate
# is a mean over about n/2 samples of sd <= sigma in each cell.
along = hard["along"][:, 0, :]
closed = np.array([sqrt(s) * erf(sqrt(s) / sqrt(2)) + sqrt(2 / pi) * exp(-s / 2) for s in snr])
assert np.allclose(f["estimates/theory/hard_fixed_point"][:], closed, rtol=1e-12)
assert np.all(np.abs(along - closed) < 5 / sqrt(n / 2)), (along, closed)
assert np.allclose(hard["population_along"][0], closed, rtol=1e-9), hard["population_along"][0]
print("collapse rho measured", t["rho_collapse_measured"][:], "theory", t["rho_collapse_theory"][:])
PY
py "$MOESIM_SOURCE_DIR/python/plot_misspec.py" phase.h5 -o phase.png >plot.log 2>&1 ||
    { cat plot.log; fail "plot_misspec.py failed"; }
[ -s phase.png ] || fail "plot_misspec.py wrote no figure"
