#!/usr/bin/python3
"""PyTorch peer of one SGD training step of model::MoeLayer (as bench_moe_step times it).

The same MoE, float64, one thread (torch.set_num_threads(1)):
  logits = X W_r^T (B x E), p = softmax(logits), top-k experts per sample (largest p),
  gates = p of those experts (not renormalised, as SoftmaxTopKRouter),
  expert e: h_e(x) = relu(x W_e^T) a_e (W_e: hidden x d, a_e: hidden), y = sum_s gate_s h_{e_s}(x),
  loss = 0.5 * mean_b (y_b - label_b)^2, autograd backward, then plain SGD on W_e, a_e
  (lr_experts) and W_r (lr_router). Initial W_e, W_r ~ N(0, 1/d), a_e ~ N(0, 1/hidden);
  learning rates 0.01 (small enough that the fixed-batch descent stays finite). Experts run on the rows routed to them (index_select,
  index_add_), the usual way to write a top-k MoE in PyTorch.
Inputs and labels are fixed across steps (drawn once), as on the C++ side: no data sampling
is timed. Sizes are DIMxEXPERTSxHIDDENxBATCHxK.

Run: OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/python3 bench/peers/moe_step_torch.py
Prints JSON: per size the median seconds per step, plus torch's build and BLAS configuration,
the OpenBLAS core it ran on and its own GEMM rate (blas_core.report).
"""

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time

import torch

import blas_core


def blas_info():
    """torch's build config and the BLAS library actually mapped into this process."""
    a = torch.ones(64, 64, dtype=torch.float64)
    (a @ a).sum().item()  # make sure the BLAS is loaded and used
    mapped = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split()
            path = fields[-1] if len(fields) >= 6 else ""
            name = os.path.basename(path)
            if "blas" in name or "lapack" in name:
                mapped.add(os.path.realpath(path))
    alt = "/etc/alternatives/libblas.so.3-x86_64-linux-gnu"
    config = torch.__config__.show()
    blas = next((part.split("=", 1)[1] for line in config.splitlines()
                 for part in line.replace(",", " ").split() if part.startswith("BLAS_INFO=")),
                None)
    return {
        "torch_version": torch.__version__,
        "python": sys.executable + " " + platform.python_version(),
        "torch_blas_info": blas,
        "libblas_alternative": os.path.realpath(alt) if os.path.exists(alt) else None,
        "blas_libraries_mapped": sorted(mapped),
        "torch_num_threads": torch.get_num_threads(),
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "config_show": config,
    }


class Moe:
    def __init__(self, dim, experts, hidden, batch, k, seed=1, lr_experts=0.01, lr_router=0.01):
        g = torch.Generator().manual_seed(seed)
        f64 = torch.float64
        sd = 1.0 / math.sqrt(dim)
        self.w = (sd * torch.randn(experts, hidden, dim, generator=g, dtype=f64)).requires_grad_()
        self.a = (torch.randn(experts, hidden, generator=g, dtype=f64) / math.sqrt(hidden)).requires_grad_()
        self.wr = (sd * torch.randn(experts, dim, generator=g, dtype=f64)).requires_grad_()
        self.x = torch.randn(batch, dim, generator=g, dtype=f64)
        self.labels = torch.randn(batch, generator=g, dtype=f64)
        self.k, self.experts = k, experts
        self.lr_experts, self.lr_router = lr_experts, lr_router

    def step(self):
        x, k = self.x, self.k
        p = torch.softmax(x @ self.wr.t(), dim=1)
        gate, expert = torch.topk(p, k, dim=1)  # B x k
        flat_expert = expert.reshape(-1)
        flat_gate = gate.reshape(-1)
        sample = torch.arange(x.shape[0]).repeat_interleave(k)
        y = torch.zeros(x.shape[0], dtype=x.dtype)
        for e in range(self.experts):
            slots = (flat_expert == e).nonzero(as_tuple=True)[0]
            if slots.numel() == 0:
                continue
            rows = sample[slots]
            h = torch.relu(x.index_select(0, rows) @ self.w[e].t()) @ self.a[e]
            y = y.index_add(0, rows, flat_gate[slots] * h)
        residual = y - self.labels
        loss = 0.5 * (residual * residual).mean()
        loss.backward()
        with torch.no_grad():
            self.w -= self.lr_experts * self.w.grad
            self.a -= self.lr_experts * self.a.grad
            self.wr -= self.lr_router * self.wr.grad
            for t in (self.w, self.a, self.wr):
                t.grad = None
        return float(loss)


def time_size(size, warmup, min_steps, min_seconds):
    dim, experts, hidden, batch, k = size
    model = Moe(dim, experts, hidden, batch, k)
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
        raise SystemExit(f"non-finite loss at {size}")
    median = statistics.median(times)
    # As bench_moe_step without input gradients (x needs no grad here): forward and weight
    # gradient products.
    flops = 4.0 * batch * k * hidden * dim + 4.0 * batch * experts * dim
    return {"dim": dim, "experts": experts, "hidden": hidden, "batch": batch, "top_k": k,
            "steps_timed": len(times), "median_seconds": median, "min_seconds": min(times),
            "median_cpu_seconds": statistics.median(cpu_times),
            "gflops": flops / median / 1e9}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes",
                        default="64x4x16x256x1,256x8x64x512x1,512x8x128x1024x2,1024x8x256x1024x1",
                        help="comma-separated DIMxEXPERTSxHIDDENxBATCHxK")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--min-steps", type=int, default=10)
    parser.add_argument("--min-seconds", type=float, default=2.0)
    parser.add_argument("--output", help="write JSON here instead of stdout")
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = []
    for size in args.sizes.split(","):
        results.append(time_size(tuple(int(v) for v in size.split("x")), args.warmup,
                                 args.min_steps, args.min_seconds))
    # The OpenBLAS core in effect and torch's own 1024^3 fp64 GEMM rate, in this process.
    out = {"benchmark": "moe_step_torch", "blas": blas_info(),
           "openblas": blas_core.report("torch"), "sizes": results}
    text = json.dumps(out, indent=2)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
