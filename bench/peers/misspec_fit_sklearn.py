#!/usr/bin/python3
"""Peers of bench_misspec_fit: scikit-learn's KMeans (Lloyd) for the hard-assignment fit and a
numpy fixed-variance EM for the soft fit, on the data sets and inits bench_misspec_fit wrote
(DIR/manifest.json; raw little-endian float64, row-major).

Same algorithm, same init, same stopping rule on both sides:
- KMeans(n_clusters=K, init=<the init array>, n_init=1, algorithm="lloyd", max_iter,
  tol): scikit-learn stops when the labels do not change or when the squared centre shift
  sum_k |c_k' - c_k|^2 <= tol * mean(var(X, axis=0)); tol is passed as ours (absolute) divided
  by that mean variance, so the threshold is the same number.
- numpy EM for the means of sum_k pi_k N(mu_k, tau^2 I) with the weights fixed, stopping when
  sum_k |mu_k' - mu_k|^2 <= tol, log-likelihood at the returned means (one more E-step), as
  fit::fit_isotropic_mixture does. scikit-learn's GaussianMixture cannot hold the covariance
  fixed, hence numpy.

Run single-threaded (OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1) and with OPENBLAS_CORETYPE set
to this CPU's best kernel (bench/run sets it from bench/peers/blas_core.py). Prints one JSON
document.
Usage: misspec_fit_sklearn.py MANIFEST OUTPUT [--min-seconds 2] [--max-repeats 50]
"""

import argparse
import ctypes
import json
import os
import platform
import statistics
import sys
import time


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import blas_core  # noqa: E402  (the one OpenBLAS core probe of the peers)


def numpy_em(x, means, weights, variance, tol, max_iter):
    """Fixed-variance EM for the means (weights fixed): the numpy formulation of
    fit::fit_isotropic_mixture. Returns means, iterations, converged, log-likelihood."""
    import numpy as np
    n, d = x.shape
    log_w = np.log(weights)
    const = -0.5 * d * np.log(2.0 * np.pi * variance)
    xx = np.einsum("ij,ij->i", x, x)

    def e_step(mu):
        # log pi_k - |x - mu_k|^2 / (2 tau^2), by the expansion |x|^2 - 2 x.mu + |mu|^2.
        logits = (x @ mu.T) / variance
        logits -= 0.5 * (xx[:, None] + np.einsum("ij,ij->i", mu, mu)[None, :]) / variance
        logits += log_w
        top = logits.max(axis=1, keepdims=True)
        np.subtract(logits, top, out=logits)
        np.exp(logits, out=logits)
        total = logits.sum(axis=1, keepdims=True)
        logits /= total
        return logits, float(np.sum(top) + np.sum(np.log(total))) + n * const

    mu = means.copy()
    iterations, converged = 0, False
    while iterations < max_iter:
        resp, _ = e_step(mu)
        mass = resp.sum(axis=0)
        moved = (resp.T @ x) / mass[:, None]
        shift = float(np.sum((moved - mu) ** 2))
        mu = moved
        iterations += 1
        if shift <= tol:
            converged = True
            break
    return mu, iterations, converged, e_step(mu)[1]


def timed(fit, min_seconds, max_repeats):
    wall, cpu, result = [], [], None
    begin = time.perf_counter()
    while not wall or (time.perf_counter() - begin < min_seconds and len(wall) < max_repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        result = fit()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
    return result, {"fits_timed": len(wall), "median_seconds": statistics.median(wall),
                    "min_seconds": min(wall), "median_cpu_seconds": statistics.median(cpu)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("manifest", nargs="?")
    parser.add_argument("output", nargs="?")
    parser.add_argument("--min-seconds", type=float, default=2.0)
    parser.add_argument("--max-repeats", type=int, default=50)
    args = parser.parse_args()
    import numpy as np
    import sklearn
    import threadpoolctl
    from sklearn.cluster import KMeans

    with open(args.manifest) as f:
        manifest = json.load(f)
    k, tol, max_iter = manifest["k"], manifest["tolerance"], manifest["max_iterations"]
    variance = manifest["variance"]
    rows = []
    for size in manifest["sizes"]:
        n, d = size["n"], size["d"]
        x = np.fromfile(size["data"], dtype="<f8").reshape(n, d)
        init = np.fromfile(size["init"], dtype="<f8").reshape(k, d)
        # scikit-learn scales tol by the mean per-feature variance: pass ours divided by it.
        sk_tol = tol / float(np.mean(np.var(x, axis=0)))

        def hard():
            return KMeans(n_clusters=k, init=init, n_init=1, algorithm="lloyd",
                          max_iter=max_iter, tol=sk_tol).fit(x)

        km, hard_time = timed(hard, args.min_seconds, args.max_repeats)
        weights = np.full(k, 1.0 / k)
        (mu, iterations, converged, loglik), soft_time = timed(
            lambda: numpy_em(x, init, weights, variance, tol, max_iter), args.min_seconds,
            args.max_repeats)
        rows.append({"id": size["id"], "k": k, "d": d, "n": n,
                     "hard": dict(hard_time, iterations=int(km.n_iter_),
                                  objective=float(km.inertia_),
                                  centres=km.cluster_centers_.tolist(), sklearn_tol=sk_tol),
                     "soft": dict(soft_time, iterations=iterations, converged=converged,
                                  log_likelihood=loglik, means=mu.tolist())})
        print(f"misspec_fit_sklearn: {size['id']} KMeans {hard_time['median_seconds']:.4g} s "
              f"({km.n_iter_} it), numpy EM {soft_time['median_seconds']:.4g} s "
              f"({iterations} it)", file=sys.stderr)
    facts = blas_core.cpu_facts()
    peer = {"python": sys.executable + " " + platform.python_version(),
            "numpy": np.__version__, "sklearn": sklearn.__version__,
            "openblas": dict(blas_core.openblas_core() or {},
                             OPENBLAS_CORETYPE=os.environ.get("OPENBLAS_CORETYPE"),
                             best_coretype_for_cpu=blas_core.best_core(facts["vendor"], facts["flags"])),
            "threadpools": threadpoolctl.threadpool_info()}
    with open(args.output, "w") as f:
        json.dump({"benchmark": "misspec_fit_peers", "peer": peer, "sizes": rows}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
