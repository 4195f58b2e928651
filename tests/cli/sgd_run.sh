# A short sgd run under mpiexec with NP ranks: exits 0, writes a complete file with every
# observable of issue 4 in the documented shapes, finite values, and a MoE that learns
# something (test loss below its first frame's; read back with h5py).
source "$(dirname "$0")/common.sh"
np=$1
dir=$2
mkdir -p "$dir"
out="$dir/sgd-np$np.h5"
rm -f "$out"
# 3 experts in blocks of 1 and 2 clusters: at 4 ranks one rank owns no expert; a batch of
# 40 in blocks of 16 leaves rank 3 without samples.
expect_exit 0 "$dir/run-np$np.log" mpirun_moesim "$np" run -e sgd --out "$out" \
    --set run.steps=300 --set run.frame_every=50 --set run.block_size=16 \
    --set sgd.dim=16 --set sgd.batch=40 --set sgd.test_samples=200 --set sgd.experts=3 \
    --set sgd.vanilla_width=5 --set sgd.top_k=2
expect_in "$dir/run-np$np.log" "results: .*sgd-np$np.h5"
expect_in "$dir/run-np$np.log" "steps to recovery moe / vanilla"
py - "$out" "$np" <<'PY'
import sys, h5py, numpy as np
path, nranks = sys.argv[1], int(sys.argv[2])
with h5py.File(path, "r") as f:
    assert f.attrs["status"].decode().strip("\0") == "complete", f.attrs["status"]
    assert int(f.attrs["nranks"]) == nranks
    obs = f["observables"]
    frames = 7
    shapes = {"train_loss": (frames, 2), "test_loss": (frames, 2),
              "overlap_moe": (frames, 3, 2), "overlap_moe_routed": (frames, 2),
              "overlap_vanilla": (frames, 2),
              "router_accuracy": (frames, 2), "expert_load": (frames, 3)}
    for name, shape in shapes.items():
        value = obs[name + "/value"][:]
        assert value.shape == shape, (name, value.shape)
        assert np.all(np.isfinite(value)), name
        assert np.array_equal(obs[name + "/step"][:], np.arange(0, 301, 50)), name
    assert f["particles/expert_w/value"].shape == (frames, 3, 2, 16)
    # Wall-clock timers live under /timing, one scalar series per phase, never in /observables.
    assert sorted(f["timing"].keys()) == sorted(
        ["step", "route", "dispatch", "expert", "combine", "reduce", "vanilla", "frame"])
    for phase in f["timing"]:
        seconds = f["timing/" + phase + "/value"][:]
        assert seconds.shape == (frames,) and np.all(seconds >= 0), phase
    assert not any("time" in name for name in obs), list(obs)
    # Top-2 routing sends every sample to two experts.
    assert np.all(obs["expert_load/value"][:].sum(axis=1) == 80)
    overlaps = np.concatenate([obs[name + "/value"][:].ravel()
                               for name in ("overlap_moe", "overlap_moe_routed", "overlap_vanilla")])
    # The routed overlap is one of the experts' overlaps for that cluster.
    routed, per_expert = obs["overlap_moe_routed/value"][:], obs["overlap_moe/value"][:]
    assert all(routed[t, c] in per_expert[t, :, c] for t in range(frames) for c in range(2))
    assert np.all((overlaps >= 0) & (overlaps <= 1 + 1e-12))
    # Normalised directions: every expert neuron has unit norm.
    norms = np.linalg.norm(f["particles/expert_w/value"][-1], axis=-1)
    assert np.allclose(norms, 1.0), norms
    test = obs["test_loss/value"][:]
    assert test[-1, 0] < test[0, 0], test[:, 0]
    recovery = f["estimates/steps_to_recovery"][:]
    assert recovery.shape == (2, 2), recovery.shape
    assert np.all((recovery == -1) | ((recovery >= 0) & (recovery <= 300) & (recovery % 50 == 0)))
print("ok", path)
PY
# Limits across keys are config errors (exit 2) found before any output exists.
rm -f "$dir/bad-np$np.h5"
expect_exit 2 "$dir/bad-np$np.log" mpirun_moesim "$np" run -e sgd --out "$dir/bad-np$np.h5" \
    --set sgd.experts=2 --set sgd.top_k=3
expect_in "$dir/bad-np$np.log" "sgd.top_k.*more than sgd.experts = 2"
expect_exit 2 "$dir/bad-np$np.log" mpirun_moesim "$np" run -e sgd --out "$dir/bad-np$np.h5" \
    --set sgd.dim=2
expect_in "$dir/bad-np$np.log" "sgd.dim.*below the 3 orthonormal vectors"
expect_exit 2 "$dir/bad-np$np.log" mpirun_moesim "$np" run -e sgd --out "$dir/bad-np$np.h5" \
    --set "sgd.link_coefficients=[1.0, 0.5, 0.25]"
expect_in "$dir/bad-np$np.log" "sgd.link_coefficients.*not a multiple of sgd.clusters = 2"
[ ! -e "$dir/bad-np$np.h5" ] || fail "a config error left an output file"
