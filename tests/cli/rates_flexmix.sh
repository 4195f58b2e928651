# Cross-check of our EM (fit::fit_em, softmax gate) against R flexmix: two small data sets
# (k = 2, d = 1; k = 3, d = 2) written by bench_rates_fit, fitted by both from the same
# starting posterior with the same tolerance. Both fitted log-likelihoods, evaluated by one
# numpy formula, agree to 1e-6 relative; each side's reported log-likelihood matches that
# formula at its own parameters; ours is the higher (flexmix's variance M-step has a
# degrees-of-freedom factor N / (N - d - 1), so its fixed point is not the MLE), and undoing
# that factor brings flexmix's value closer to ours. Skipped (exit 77) only if Rscript or flexmix is missing.
# Usage: rates_flexmix.sh BENCH_RATES_FIT
source "$(dirname "$0")/common.sh"
bench=$1
dir=$PWD
if ! command -v Rscript >/dev/null || ! Rscript -e 'library(flexmix)' >/dev/null 2>&1; then
    echo "SKIP: Rscript with flexmix not found (Debian r-cran-flexmix, scripts/install-deps)"
    exit 77
fi
rm -rf "$dir/rates"
expect_exit 0 "$dir/ours.log" "$MPIEXEC" -n 1 "$bench" --dir "$dir/rates" \
    --sizes 2x1x2000,3x2x3000 --tolerance 1e-10 --max-iterations 1000 --min-seconds 0 \
    --max-repeats 1 --output "$dir/ours.json"
expect_exit 0 "$dir/flexmix.log" Rscript "$MOESIM_SOURCE_DIR/bench/peers/flexmix_fit.R" \
    "$dir/rates/manifest.csv" "$dir/flexmix.json" 1e-10 1000 0 1
py - "$MOESIM_SOURCE_DIR/bench" "$dir" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[1])
import report
work = sys.argv[2]
ours = json.load(open(f"{work}/ours.json"))["sizes"]
peer = {s["id"]: s for s in json.load(open(f"{work}/flexmix.json"))["sizes"]}
assert [s["id"] for s in ours] == ["k2_d1_n2000", "k3_d2_n3000"], [s["id"] for s in ours]
for o in ours:
    p = peer[o["id"]]
    assert o["converged"] and p["converged"] and p["components"] == o["k"], (o, p)
    ll_ours, ll_peer = report.rates_log_likelihoods(work, o, p)
    # Our reported value is the formula at our parameters (two implementations).
    assert abs(o["log_likelihood"] - ll_ours) <= 1e-10 * abs(ll_ours), (o["log_likelihood"], ll_ours)
    # flexmix reports its log-likelihood before its last gate refit: equal to tolerance.
    assert abs(p["log_likelihood"] - ll_peer) <= 1e-7 * abs(ll_peer), (p["log_likelihood"], ll_peer)
    rel = (ll_ours - ll_peer) / abs(ll_peer)
    print(f"{o['id']}: ours {ll_ours:.10f} flexmix {ll_peer:.10f} relative {rel:.2e} "
          f"iterations {o['iterations']} / {p['iterations']}")
    assert -1e-9 <= rel <= 1e-6, (o["id"], rel)
    ll_peer_ml = report.rates_log_likelihoods(work, o, p, ml_variance=True)[1]
    rel_ml = (ll_ours - ll_peer_ml) / abs(ll_peer_ml)
    print(f"  flexmix with ML variances: relative {rel_ml:.2e}")
    assert abs(rel_ml) <= 0.5 * rel, (o["id"], rel, rel_ml)
print("ok")
PY
