# The routing experiment end to end at 2 ranks: bad input is exit 2 naming the key; every
# router's per-frame metrics agree with numpy recomputations from the per-expert counts
# (MaxVio, CV, drop rate, dead experts), no expert processes more than C = ceil(c k T / E)
# slots and each drops exactly its excess, the summary table is the mean over the second half
# of the frames, dropless drops nothing, and the plotting helper draws the run.
source "$(dirname "$0")/common.sh"
cd "$(mktemp -d ./routing.XXXX)"
expect_exit 2 topk.log "$MOESIM" run -e routing --out bad.h5 --set routing.num_experts=3 \
    --set routing.moe_router_topk=4
expect_in topk.log "key 'routing.moe_router_topk'.*is 4, more than routing.num_experts = 3"
expect_exit 2 router.log "$MOESIM" run -e routing --out bad.h5 --set 'routing.routers=["switch"]'
expect_in router.log "key 'routing.routers'"
expect_exit 2 linear.log "$MOESIM" run -e routing --out bad.h5 \
    --set 'routing.data="linear_experts"' --set routing.dim=7 --set routing.clusters=4
expect_in linear.log "key 'routing.dim'.*is 7, below the 2 \\* routing.clusters = 8"
[ ! -e bad.h5 ] || fail "a config error left bad.h5 behind"

common=(--set run.steps=40 --set run.frame_every=10 --set run.block_size=16
        --set routing.dim=8 --set routing.clusters=2 --set 'routing.link_coefficients=[0.0, 1.0, 0.0, 1.0]'
        --set routing.batch=40 --set routing.test_samples=64 --set routing.final_test_samples=64
        --set routing.num_experts=4)
expect_exit 0 capped.log mpirun_moesim 2 run -e routing --out capped.h5 "${common[@]}" \
    --set routing.moe_expert_capacity_factor=0.8 --set routing.moe_token_drop_policy=position
expect_exit 0 dropless.log mpirun_moesim 2 run -e routing --out dropless.h5 "${common[@]}" \
    --set routing.moe_expert_capacity_factor=0 --set 'routing.routers=["aux_loss", "kmeans"]'
expect_in capped.log "kmeans: test loss / MaxVio / CV / drop / coupling / similarity"
py - capped.h5 dropless.h5 <<'PY'
import sys, h5py, math, numpy as np
T, k, E, steps = 40, 2, 4, 40
def check(path, factor):
    with h5py.File(path, "r") as f:
        names = [n.decode() for n in f["estimates/routers/name"][:]]
        C = math.ceil(factor * k * T / E) if factor > 0 else T * k
        for i, name in enumerate(names):
            o = f[f"routers/{name}/observables"]
            v = lambda key: o[key]["value"][:]
            step = o["maxvio/step"][:]
            assert list(step) == list(range(0, steps + 1, 10)), step
            tokens, kept = v("tokens_per_expert"), v("processed_per_expert")
            assert tokens.shape == (len(step), E) and np.all(tokens.sum(1) == T * k)
            assert np.all(kept <= C) and np.all(kept == np.minimum(tokens, C)), (name, kept)
            mean = tokens.mean(1)
            assert np.allclose(v("maxvio"), (tokens.max(1) - mean) / mean, rtol=1e-13)
            assert np.allclose(v("cv"), tokens.std(1) / mean, rtol=1e-13)
            assert np.allclose(v("drop_rate"), 1 - kept.sum(1) / (T * k), atol=1e-15)
            assert np.array_equal(v("dead_experts"), (kept == 0).sum(1))
            late = step * 2 >= steps
            s = f["estimates/routers"]
            assert s["final_loss"][i] == v("test_loss")[-1]  # final_test_samples = test_samples
            for col, key in [("maxvio", "maxvio"), ("cv", "cv"), ("drop_rate", "drop_rate"),
                             ("router_similarity", "router_similarity")]:
                assert np.isclose(s[col][i], v(key)[late].mean(), rtol=1e-12), (name, col)
            c = v("coupling_mean")[late]
            if name == "kmeans":
                assert np.all(np.isnan(c)) and np.isnan(s["coupling"][i])
            else:
                assert np.all((c >= 0) & (c <= 1)) and np.isclose(s["coupling"][i], c.mean())
            assert np.all((v("router_similarity") >= 0) & (v("router_similarity") <= 1))
            assert np.all(np.isfinite(v("test_loss"))) and np.all(np.isfinite(v("train_loss")))
        return names, f["estimates/routers/drop_rate"][:]
names, drops = check(sys.argv[1], 0.8)
assert names == ["aux_loss", "loss_free", "sigmoid", "sigmoid_bias", "kmeans", "control"], names
assert np.all(drops > 0), drops  # c = 0.8 < 1 must drop
names, drops = check(sys.argv[2], 0.0)
assert names == ["aux_loss", "kmeans"] and np.all(drops == 0)
PY
py "$MOESIM_SOURCE_DIR/python/plot_routing.py" capped.h5 -o capped.png > plot.log 2>&1 || fail "plot failed: $(cat plot.log)"
expect_in plot.log "router_similarity"
[ -s capped.png ] || fail "no plot written"
