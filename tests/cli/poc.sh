# The poc experiment end to end at 2 ranks: bad input is exit 2 naming the key; from the
# particle frames and the data written by the run, an independent numpy implementation of
# the paper's network (f = (R/N) sum_i tanh(theta3) tanh(<theta1, z> + theta2)) reproduces the
# distances to the reference, the objective gaps, the merge of all M_max systems (its
# distance and its test loss) and the free energy (loss + lambda' E|theta|^2 - lambda H_knn,
# H_knn by scipy's kd-tree); the log-log slope is the least-squares slope of the means,
# inside its interval; at t = 0, when the particles are independent N(0, init_sd^2 I) draws,
# the squared distances are the Monte Carlo error of two independent means, so their slope in
# N is -1 within its interval; the plotting helper draws the run; poc.entropy_every,
# poc.particle_frame_every and poc.single_system_entropy leave out what they say and change
# nothing else.
source "$(dirname "$0")/common.sh"
cd "$(mktemp -d ./poc.XXXX)"
bad() { # bad LOG PATTERN --set ...: exit 2, the pattern in the message, no output
    local log=$1 pattern=$2
    shift 2
    expect_exit 2 "$log" "$MOESIM" run -e poc --out bad.h5 "$@"
    expect_in "$log" "$pattern"
    [ ! -e bad.h5 ] || fail "a config error left bad.h5 behind"
}
bad grid.log "key 'poc.particles'.*strictly increasing" --set 'poc.particles=[50, 20]'
bad single.log "key 'poc.single_system_sizes'.*more than poc.systems = 10" \
    --set 'poc.single_system_sizes=[2, 11]'
bad knn.log "key 'poc.knn_k'.*less than the smallest N" --set poc.knn_k=50
bad loss.log "key 'poc.loss'.*multi-index labels are real" --set poc.data=multi_index \
    --set poc.loss=logistic
bad frames.log "key 'poc.frame_systems'" --set poc.frame_systems=11

# Every system's particles written (frame_systems = systems); N from 20 to 320, t = 0..4.
expect_exit 0 run.log mpirun_moesim 2 run -e poc --out poc.h5 --set run.steps=40 \
    --set run.frame_every=10 --set 'poc.particles=[20, 40, 80, 160, 320]' --set poc.systems=6 \
    --set poc.frame_systems=6 --set poc.reference_particles=3000 --set 'poc.single_system_sizes=[2]'
expect_in run.log "slope of squared L2 distance vs N"
py - poc.h5 <<'PY'
import sys

import h5py
import numpy as np
from scipy.spatial import cKDTree
from scipy.special import digamma, gammaln

f = h5py.File(sys.argv[1], "r")
R, l2, lam, eta, init_sd = 10.0, 0.1, 0.01, 0.1, 1.0
n = f["estimates/poc/N"][()].astype(int)
T = len(f["estimates/poc/time"])
m_max = f["estimates/poc/distance"].shape[0]
z = f["estimates/data/test_inputs"][()]
z_train, y_train = f["estimates/data/train_inputs"][()], f["estimates/data/train_labels"][()]
assert z.shape == (40, 2) and z_train.shape == (160, 2), (z.shape, z_train.shape)
assert np.array_equal(np.sort(np.unique(y_train)), [-1.0, 1.0])
# Circles of radius 1 and 2 with noise sd 0.1.
r = np.linalg.norm(z_train, axis=1)
assert np.all(np.abs(r - np.where(y_train > 0, 2.0, 1.0)) < 0.5), r

def predict(theta, x):
    return R * np.mean(np.tanh(theta[:, -1])[None, :] * np.tanh(x @ theta[:, :-2].T + theta[:, -2]), axis=1)

def objective(theta):  # loss + lambda' E|theta|^2 on the training set, logistic loss
    fx = predict(theta, z_train)
    return np.mean(np.logaddexp(0.0, -y_train * fx)) + l2 * np.mean(np.sum(theta**2, axis=1))

def knn_entropy(theta):  # Kozachenko-Leonenko, k = 1
    N, D = theta.shape
    eps = cKDTree(theta).query(theta, k=2)[0][:, 1]
    log_vd = D / 2 * np.log(np.pi) - gammaln(D / 2 + 1)
    return digamma(N) - digamma(1) + log_vd + D * np.mean(np.log(eps))

distance = f["estimates/poc/distance"][()]
sup = f["estimates/poc/sup_distance"][()]
gap = f["estimates/poc/gap"][()]
for k in (0, T - 1):
    ref = f["particles/reference/value"][k]
    f_ref = predict(ref, z)
    merged = {}
    for i, N in enumerate(n):
        preds = []
        for m in range(m_max):
            theta = f[f"particles/N{N}_system{m}/value"][k]
            assert theta.shape == (N, 4)
            fz = predict(theta, z)
            preds.append(fz)
            assert np.isclose(distance[m, i, k], np.sqrt(np.mean((fz - f_ref) ** 2)), rtol=1e-9, atol=1e-12)
            assert np.isclose(sup[m, i, k], np.max(np.abs(fz - f_ref)), rtol=1e-9, atol=1e-12)
            assert np.isclose(gap[m, i, k], objective(theta) - objective(ref), rtol=1e-8, atol=1e-10)
        merged[i] = np.mean(preds, axis=0)
    if k == 0:  # independent N(0, init_sd^2 I) draws
        sd = np.std(ref)
        assert abs(sd - init_sd) < 0.05, sd
# The merge of all M_max systems (every draw of M = M_max is the whole pool).
ens = f["estimates/ensemble/distance"][()]
for i in range(len(n)):
    want = np.max(np.abs(merged[i] - f_ref))
    assert np.allclose(ens[:, m_max - 1, i], want, rtol=1e-9, atol=1e-12), (ens[:, m_max - 1, i], want)
# The merge's test loss (logistic on the circles), recomputed from the merged predictions.
y_test = f["estimates/data/test_labels"][()]
test_loss = f["estimates/ensemble/test_loss"][()]
for i in range(len(n)):
    want = np.mean(np.logaddexp(0.0, -y_test * merged[i]))
    assert np.allclose(test_loss[:, m_max - 1, i], want, rtol=1e-9, atol=1e-12), (test_loss[:, m_max - 1, i], want)
# M = 1 draws are single systems of the pool: their distances are among the systems'.
for i in range(len(n)):
    assert all(np.isclose(sup[:, i, T - 1], d).any() for d in ens[:, 0, i])
single = f["estimates/ensemble/single_system"][()]
assert np.isnan(single[:, 0]).all() and np.isfinite(single[:, 1]).all() and np.isnan(single[:, 2:]).all()
# Free energy of the reference at the last frame.
kind = f["estimates/systems/kind"][()]
s_ref = int(np.flatnonzero(kind == 1)[0])
free = f["observables/free_energy/value"][T - 1][s_ref]
want = objective(ref) - lam * knn_entropy(ref)
assert np.isclose(free, want, rtol=1e-8), (free, want)
assert np.isclose(f["observables/entropy/value"][T - 1][s_ref], knn_entropy(ref), rtol=1e-9)
# Slopes: least squares of log mean squared distance against log N, inside the interval.
slope, lo, hi = (f["estimates/poc/" + x][()] for x in ("slope", "ci_low", "ci_high"))
for k in range(T):
    fit = np.polyfit(np.log(n), np.log(np.mean(distance[:, :, k] ** 2, axis=0)), 1)[0]
    assert np.isclose(slope[k], fit, rtol=1e-9), (k, slope[k], fit)
    assert lo[k] <= slope[k] <= hi[k]
# t = 0: Monte Carlo error of two independent means, E|f_N - f_ref|^2 ~ (1/N + 1/N_ref) Var h.
assert lo[0] - 0.1 <= -1.0 <= hi[0] + 0.1, (slope[0], lo[0], hi[0])
print("poc: distances, gaps, merge, free energy and slopes match numpy;",
      "slopes by frame:", np.round(slope, 2), "t=0 interval", (round(lo[0], 2), round(hi[0], 2)))
PY
expect_exit 0 plot.log py "$MOESIM_SOURCE_DIR/python/plot_poc.py" poc.h5 -o poc.png
[ -s poc.png ] || fail "plot_poc.py wrote no poc.png"

# poc.entropy_every = 2: the k-NN entropy (and so the free energy) only every other frame and
# at the last, NaN between; nothing else changes (the dynamics never use the estimate).
expect_exit 0 sparse.log mpirun_moesim 2 run --quiet "$MOESIM_SOURCE_DIR/tests/cli/experiments/poc.toml" \
    --set poc.particle_frame_every=1 --out every1.h5
expect_exit 0 sparse.log mpirun_moesim 2 run --quiet "$MOESIM_SOURCE_DIR/tests/cli/experiments/poc.toml" \
    --set poc.particle_frame_every=1 --set poc.entropy_every=2 --out every2.h5
py - every1.h5 every2.h5 <<'PY'
import sys

import h5py
import numpy as np

full, sparse = (h5py.File(p, "r") for p in sys.argv[1:])
T = full["observables/entropy/value"].shape[0]
has = np.array([t % 2 == 0 or t == T - 1 for t in range(T)])
for term in ("entropy", "free_energy"):
    a, b = full[f"observables/{term}/value"][()], sparse[f"observables/{term}/value"][()]
    assert np.isfinite(a).all() and np.isnan(b[~has]).all(), term
    assert np.array_equal(a[has], b[has]), term
for term in ("loss", "second_moment", "test_loss"):
    assert np.array_equal(full[f"observables/{term}/value"][()], sparse[f"observables/{term}/value"][()])
for name in ("distance", "gap", "slope"):
    assert np.array_equal(full[f"estimates/poc/{name}"][()], sparse[f"estimates/poc/{name}"][()])
print(f"poc.entropy_every = 2: entropy in {has.sum()} of {T} frames, everything else identical")
PY

# poc.particle_frame_every = 2: particle frames only every other frame and at the last, the
# same values as in the run that writes them every frame; nothing else changes.
expect_exit 0 sparse.log mpirun_moesim 2 run --quiet "$MOESIM_SOURCE_DIR/tests/cli/experiments/poc.toml" \
    --set poc.particle_frame_every=2 --out particles2.h5
py - every1.h5 particles2.h5 <<'PY'
import sys

import h5py
import numpy as np

full, sparse = (h5py.File(p, "r") for p in sys.argv[1:])
T = full["observables/loss/value"].shape[0]
keep = [t for t in range(T) if t % 2 == 0 or t == T - 1]
names = list(full["particles"])
assert names and names == list(sparse["particles"]), (names, list(sparse["particles"]))
for name in names:
    a, b = full[f"particles/{name}"], sparse[f"particles/{name}"]
    assert np.array_equal(a["step"][()][keep], b["step"][()]), name
    assert np.array_equal(a["value"][()][keep], b["value"][()]), name
for group in ("observables", "estimates"):
    def same(path, obj):
        if isinstance(obj, h5py.Dataset):
            assert np.array_equal(obj[()], sparse[group][path][()], equal_nan=obj.dtype.kind == "f"), path
    full[group].visititems(same)
print(f"poc.particle_frame_every = 2: particles in {len(keep)} of {T} frames, everything else identical")
PY

# poc.single_system_entropy = false: no k-NN entropy (NaN) for the single systems of M N
# particles; every other value identical.
expect_exit 0 sparse.log mpirun_moesim 2 run --quiet "$MOESIM_SOURCE_DIR/tests/cli/experiments/poc.toml" \
    --set poc.particle_frame_every=1 --set poc.single_system_entropy=false --out nosingle.h5
py - every1.h5 nosingle.h5 <<'PY'
import sys

import h5py
import numpy as np

full, cut = (h5py.File(p, "r") for p in sys.argv[1:])
single = full["estimates/systems/kind"][()] == 2
assert single.any()
for term in ("entropy", "free_energy"):
    a, b = full[f"observables/{term}/value"][()], cut[f"observables/{term}/value"][()]
    assert np.isnan(b[:, single]).all() and np.array_equal(a[:, ~single], b[:, ~single]), term
def same(path, obj):
    if isinstance(obj, h5py.Dataset) and not path.startswith(("observables/entropy", "observables/free_energy")):
        assert np.array_equal(obj[()], cut[path][()], equal_nan=obj.dtype.kind == "f"), path
for group in ("observables", "estimates", "particles"):
    full[group].visititems(lambda p, o: same(f"{group}/{p}", o))
print(f"poc.single_system_entropy = false: NaN entropy for {single.sum()} single systems, the rest identical")
PY
