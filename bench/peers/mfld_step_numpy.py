#!/usr/bin/python3
"""numpy peer of model::MeanFieldLangevin::step (tanh student and teacher, data term on).

One step, as in src/model/mean_field_langevin.cpp:
  X ~ N(0, I_d) (B x d), y = mean_j tanh(X theta*_j) over m teacher particles,
  pre = X theta^T (B x N), a = tanh(pre), f = mean_i a, r = f - y,
  grad = ((1 - a^2) * r)^T X / B (N x d),
  theta <- (1 - eta l2) theta - eta grad + sqrt(2 lambda eta) xi, xi ~ N(0, 1).
Normals come from numpy's Philox bit generator (the C++ side uses Philox4x32-10 with
Box-Muller), so both sides draw B*d + N*d normals per step. numpy does the two products
whole (not per block of 64 particles as the C++ does for rank-count independence).

Run it single-threaded: OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/python3 ...
Prints JSON: per size the median seconds per step, plus numpy's BLAS configuration, the
OpenBLAS core it ran on and its own GEMM rate (blas_core.report).
"""

import argparse
import io
import json
import math
import os
import platform
import statistics
import sys
import time
from contextlib import redirect_stdout

import numpy as np

import blas_core


def blas_info():
    """numpy's build config and the BLAS library actually mapped into this process."""
    buf = io.StringIO()
    with redirect_stdout(buf):
        np.show_config()
    mapped = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            name = os.path.basename(path)
            if "blas" in name or "lapack" in name:
                mapped.add(os.path.realpath(path))
    alt = "/etc/alternatives/libblas.so.3-x86_64-linux-gnu"
    return {
        "numpy_version": np.__version__,
        "python": sys.executable + " " + platform.python_version(),
        "libblas_alternative": os.path.realpath(alt) if os.path.exists(alt) else None,
        "blas_libraries_mapped": sorted(mapped),
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "show_config": buf.getvalue(),
    }


class Mfld:
    def __init__(self, dim, particles, batch, seed=1, teacher_width=4, teacher_norm=2.0,
                 eta=0.2, entropy=1e-4, l2=1e-3, init_sd=0.25):
        self.rng = np.random.Generator(np.random.Philox(seed))
        g = self.rng.standard_normal((teacher_width, dim))
        self.teacher = teacher_norm * g / np.linalg.norm(g, axis=1, keepdims=True)
        self.theta = init_sd * self.rng.standard_normal((particles, dim))
        self.batch, self.eta, self.entropy, self.l2 = batch, eta, entropy, l2

    def step(self):
        theta, rng, eta = self.theta, self.rng, self.eta
        x = rng.standard_normal((self.batch, theta.shape[1]))
        y = np.tanh(x @ self.teacher.T).mean(axis=1)
        act = np.tanh(x @ theta.T)
        residual = act.mean(axis=1) - y
        weighted = act
        np.multiply(act, act, out=weighted)
        np.subtract(1.0, weighted, out=weighted)
        weighted *= residual[:, None]
        gradient = weighted.T @ x
        gradient *= 1.0 / self.batch
        theta *= 1.0 - eta * self.l2
        theta -= eta * gradient
        theta += math.sqrt(2.0 * self.entropy * eta) * rng.standard_normal(theta.shape)
        return 0.5 * float(residual @ residual) / self.batch


def time_size(dim, particles, batch, warmup, min_steps, min_seconds):
    model = Mfld(dim, particles, batch)
    for _ in range(warmup):
        model.step()
    times, cpu_times = [], []
    start = time.perf_counter()
    while len(times) < min_steps or time.perf_counter() - start < min_seconds:
        t0, c0 = time.perf_counter(), time.thread_time()
        loss = model.step()
        times.append(time.perf_counter() - t0)
        cpu_times.append(time.thread_time() - c0)  # not inflated by other users' load
    if not math.isfinite(loss):
        raise SystemExit(f"non-finite loss at d={dim} N={particles} B={batch}")
    median = statistics.median(times)
    flops = 4.0 * batch * particles * dim
    return {"dim": dim, "particles": particles, "batch": batch, "steps_timed": len(times),
            "median_seconds": median, "min_seconds": min(times),
            "median_cpu_seconds": statistics.median(cpu_times),
            "gflops": flops / median / 1e9}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="16x1024x256,64x4096x512,256x4096x1024",
                        help="comma-separated dim x particles x batch")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--min-steps", type=int, default=10)
    parser.add_argument("--min-seconds", type=float, default=2.0)
    parser.add_argument("--output", help="write JSON here instead of stdout")
    args = parser.parse_args()
    results = []
    for size in args.sizes.split(","):
        dim, particles, batch = (int(v) for v in size.split("x"))
        results.append(time_size(dim, particles, batch, args.warmup, args.min_steps,
                                 args.min_seconds))
    # The OpenBLAS core in effect and numpy's own 1024^3 GEMM rate, measured in this process.
    out = {"benchmark": "mfld_step_numpy", "blas": blas_info(),
           "openblas": blas_core.report("numpy"), "sizes": results}
    text = json.dumps(out, indent=2)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
