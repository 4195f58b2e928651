#!/usr/bin/python3
"""Monte Carlo bias of the Kozachenko-Leonenko k-NN entropy estimate on Gaussian clouds.

An implementation independent of moesim's (scipy's cKDTree up to D = 16, numpy distance
products above), for the bias table in include/moesim/model/knn_entropy.hpp and the
tolerances of tests/unit/model_knn_entropy.cpp:
  H_hat = psi(N) - psi(k) + log V_D + (D/N) sum_i log eps_i   (eps_i: k-th neighbour distance)
against H = (D/2) log(2 pi e) of N(0, I_D) (the bias does not depend on the scale).
Usage: knn_entropy_bias.py N,D,K,CLOUDS [...]   e.g. 4000,2,1,2000 1000,16,1,1000
Prints per configuration E[H_hat] - H with its Monte Carlo error and the sd of one estimate.
Run single-threaded (OPENBLAS_NUM_THREADS=1) on a shared machine.
"""

import math
import sys

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import digamma, gammaln


def kth_distance(x, k):
    n, d = x.shape
    if d <= 16:
        dist, _ = cKDTree(x).query(x, k=k + 1)
        return dist[:, k]
    sq = (x * x).sum(1)
    out = np.empty(n)
    for start in range(0, n, 1024):
        block = sq[start:start + 1024, None] + sq[None, :] - 2.0 * x[start:start + 1024] @ x.T
        rows = np.arange(block.shape[0])
        block[rows, start + rows] = np.inf
        np.maximum(block, 0, out=block)
        out[start:start + 1024] = np.sqrt(np.partition(block, k - 1, axis=1)[:, k - 1])
    return out


def knn_entropy(x, k):
    n, d = x.shape
    log_unit_ball = 0.5 * d * math.log(math.pi) - gammaln(0.5 * d + 1)
    return digamma(n) - digamma(k) + log_unit_ball + d * np.mean(np.log(kth_distance(x, k)))


def main():
    rng = np.random.default_rng(12345)
    for spec in sys.argv[1:]:
        n, d, k, clouds = (int(v) for v in spec.split(","))
        truth = 0.5 * d * math.log(2 * math.pi * math.e)
        est = np.array([knn_entropy(rng.standard_normal((n, d)), k) for _ in range(clouds)])
        sd = est.std(ddof=1)
        print(f"N={n} D={d} k={k} clouds={clouds}: bias {est.mean() - truth:+.4f} "
              f"+- {sd / math.sqrt(clouds):.4f}, sd {sd:.4f}, H = {truth:.4f}", flush=True)


if __name__ == "__main__":
    main()
