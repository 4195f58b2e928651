#!/usr/bin/python3
"""numpy peer of model::FullBatchLangevin::step (src/model/full_batch_langevin.cpp).

One full-batch step of the paper's network f(z) = (1/N) sum_i R tanh(t3_i) tanh(<t1_i, z> + t2_i)
on a fixed training set (n x d):
  pre = X t1^T + t2 (n x N), a = tanh(pre), s = tanh(t3), f = a (R s) / N,
  u = l'(f, y) / n  (logistic at d = 2, squared (f - y)^2 otherwise),
  w = (1 - a^2) * u,  g1 = (w^T X) * (R s), g2 = (R s) * sum_b w, g3 = R (1 - s^2) (a^T u),
  theta <- (1 - 2 eta l2) theta - eta g + sqrt(2 lambda eta) xi,  xi ~ N(0, I).
numpy does the products whole (the C++ side works per block of 64 particles, for rank-count
independence). Run single-threaded: OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1, and with
OPENBLAS_CORETYPE from bench/peers/blas_core.py when the detected core is below the best.
Prints JSON: per size the median seconds per step, plus the BLAS configuration and core.
"""

import argparse
import ctypes
import json
import math
import os
import platform
import statistics
import sys
import time

import numpy as np


def blas_info():
    mapped, core = set(), None
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split()
            path = fields[-1] if len(fields) >= 6 else ""
            name = os.path.basename(path)
            if "blas" in name or "lapack" in name:
                mapped.add(os.path.realpath(path))
                if "openblas" in name and core is None:
                    lib = ctypes.CDLL(path)
                    lib.openblas_get_corename.restype = ctypes.c_char_p
                    core = lib.openblas_get_corename().decode()
    return {"numpy_version": np.__version__,
            "python": sys.executable + " " + platform.python_version(),
            "blas_libraries_mapped": sorted(mapped), "openblas_core": core,
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
            "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")}


class Step:
    def __init__(self, dim, particles, samples, seed=1, scale=10.0, l2=0.1, entropy=0.01):
        self.rng = np.random.Generator(np.random.Philox(seed))
        rng = self.rng
        if dim == 2:  # concentric circles, labels -+1
            label = np.where(np.arange(samples) % 2 == 1, 1.0, -1.0)
            angle = 2 * np.pi * rng.random(samples)
            radius = np.where(label > 0, 2.0, 1.0)
            self.x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1)
            self.x += 0.1 * rng.standard_normal(self.x.shape)
            self.y, self.logistic = label, True
        else:  # uniform in the ball of radius 5, y = mean tanh(z_j)
            g = rng.standard_normal((samples, dim))
            g *= (5.0 * rng.random(samples) ** (1.0 / dim) / np.linalg.norm(g, axis=1))[:, None]
            self.x, self.y, self.logistic = g, np.tanh(g).mean(axis=1), False
        self.eta = 0.1 if dim == 2 else 0.01
        self.theta = rng.standard_normal((particles, dim + 2))
        self.dim, self.scale, self.l2, self.entropy = dim, scale, l2, entropy

    def step(self):
        x, theta, d, scale = self.x, self.theta, self.dim, self.scale
        n, big_n = x.shape[0], theta.shape[0]
        act = x @ theta[:, :d].T
        act += theta[:, d]
        np.tanh(act, out=act)
        gate = scale * np.tanh(theta[:, d + 1])
        f = act @ gate
        f /= big_n
        if self.logistic:
            margin = self.y * f
            u = -self.y / (1.0 + np.exp(margin))
            loss = float(np.mean(np.logaddexp(0.0, -margin)))
        else:
            r = f - self.y
            u = 2.0 * r
            loss = float(r @ r) / n
        u /= n
        g3 = act.T @ u
        w = act
        np.multiply(act, act, out=w)
        np.subtract(1.0, w, out=w)
        w *= u[:, None]
        gradient = np.empty_like(theta)
        np.matmul(w.T, x, out=gradient[:, :d])
        gradient[:, :d] *= gate[:, None]
        gradient[:, d] = gate * w.sum(axis=0)
        s = gate / scale
        gradient[:, d + 1] = scale * (1.0 - s * s) * g3
        theta *= 1.0 - 2.0 * self.eta * self.l2
        theta -= self.eta * gradient
        theta += math.sqrt(2.0 * self.entropy * self.eta) * self.rng.standard_normal(theta.shape)
        return loss


def time_size(dim, particles, samples, warmup, min_steps, min_seconds):
    model = Step(dim, particles, samples)
    for _ in range(warmup):
        model.step()
    times = []
    start = time.perf_counter()
    while len(times) < min_steps or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        loss = model.step()
        times.append(time.perf_counter() - t0)
    if not math.isfinite(loss):
        raise SystemExit(f"non-finite loss at d={dim} N={particles} n={samples}")
    median = statistics.median(times)
    flops = 4.0 * samples * particles * dim
    return {"dim": dim, "particles": particles, "samples": samples, "steps_timed": len(times),
            "median_seconds": median, "min_seconds": min(times), "gflops": flops / median / 1e9,
            "particle_steps_per_second": particles / median}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2x500x160,2x10000x160,100x500x400,100x10000x400",
                        help="comma-separated dim x particles x samples")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--min-steps", type=int, default=10)
    parser.add_argument("--min-seconds", type=float, default=2.0)
    parser.add_argument("--output", help="write JSON here instead of stdout")
    args = parser.parse_args()
    results = []
    for size in args.sizes.split(","):
        dim, particles, samples = (int(v) for v in size.split("x"))
        results.append(time_size(dim, particles, samples, args.warmup, args.min_steps,
                                 args.min_seconds))
    text = json.dumps({"benchmark": "poc_step_numpy", "blas": blas_info(), "sizes": results},
                      indent=2)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
