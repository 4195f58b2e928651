#!/usr/bin/python3
"""PyTorch peer of one training step of each router of the routing experiment.

The same layer and update as src/experiments/routing.cpp at its default sizes, float64, one
thread: top-k routing (softmax renormalised over the k kept, or sigmoid normalised over the
k kept, or cosine k-means with gates 1/k; selection with the loss-free bias where the router
has one), capacity C = ceil(c k T / E) with the probs policy (each expert keeps its C largest
gates), he2 experts h_e(x) = sum_j a_ej (z^2 - 1)/sqrt 2, z = <w_ej, x>, squared loss,
autograd backward, SGD on experts and router, the Switch aux loss (fresh top-k f, mean
normalised scores P) and the z-loss added to the router's loss, the bias update
b += gamma sign(mean - load), the cumulative k-means update, renormalised expert rows.
Experts run on the rows routed to them (index_select, index_add), the usual PyTorch MoE.
Inputs are fixed across steps: no data sampling is timed, as in moesim's /timing/<router>
(which also includes no sampling: the batch is drawn before the routers' timers start).

Run: OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/python3 bench/peers/routing_step_torch.py
Prints (or writes to --output) JSON: per router the median wall and CPU seconds per step, and
the OpenBLAS core in effect with torch's own 1024^3 fp64 GEMM rate (blas_core.report).
bench/run_routing_step runs it beside moesim on the peer's best OpenBLAS core.
"""

import argparse
import json
import math
import statistics
import time

import torch

import blas_core

ROUTERS = ["aux_loss", "loss_free", "sigmoid", "sigmoid_bias", "kmeans", "control"]


class Layer:
    def __init__(self, router, dim=32, experts=8, hidden=2, batch=128, k=2, capacity=1.25,
                 alpha=1e-2, beta=1e-3, gamma=1e-3, seed=1):
        g = torch.Generator().manual_seed(seed)
        f64 = torch.float64
        sd = 1.0 / math.sqrt(dim)
        self.router, self.k, self.experts = router, k, experts
        self.w = (sd * torch.randn(experts, hidden, dim, generator=g, dtype=f64))
        self.w /= self.w.norm(dim=2, keepdim=True)
        self.w.requires_grad_()
        self.a = torch.randn(experts, hidden, generator=g, dtype=f64).requires_grad_()
        self.wr = (0.3 * sd * torch.randn(experts, dim, generator=g, dtype=f64)).requires_grad_()
        self.centroids = 0.3 * sd * torch.randn(experts, dim, generator=g, dtype=f64)
        self.counts = torch.zeros(experts, dtype=f64)
        self.bias = torch.zeros(experts, dtype=f64)
        self.x = torch.randn(batch, dim, generator=g, dtype=f64)
        self.labels = torch.randn(batch, generator=g, dtype=f64)
        self.capacity = math.ceil(capacity * k * batch / experts)
        self.alpha = alpha if router in ("aux_loss", "sigmoid") else 0.0
        self.beta = beta if router not in ("kmeans", "control") else 0.0
        self.gamma = gamma if router in ("loss_free", "sigmoid_bias") else 0.0
        self.sigmoid = router.startswith("sigmoid")

    def route(self):
        x, k = self.x, self.k
        if self.router == "kmeans":
            cos = (x @ self.centroids.t()) / (x.norm(dim=1, keepdim=True) *
                                             self.centroids.norm(dim=1).clamp_min(1e-300))
            _, expert = torch.topk(cos, k, dim=1)
            return expert, torch.full(expert.shape, 1.0 / k, dtype=x.dtype), None
        logits = x @ self.wr.t()
        scores = torch.sigmoid(logits) if self.sigmoid else torch.softmax(logits, dim=1)
        _, expert = torch.topk(scores.detach() + self.bias, k, dim=1)
        kept = scores.gather(1, expert)
        return expert, kept / kept.sum(1, keepdim=True), logits

    def step(self):
        x, k = self.x, self.k
        expert, gate, logits = self.route()
        flat_expert, flat_gate = expert.reshape(-1), gate.reshape(-1)
        sample = torch.arange(x.shape[0]).repeat_interleave(k)
        y = torch.zeros(x.shape[0], dtype=x.dtype)
        load = torch.bincount(flat_expert, minlength=self.experts).to(x.dtype)
        for e in range(self.experts):
            slots = (flat_expert == e).nonzero(as_tuple=True)[0]
            if slots.numel() > self.capacity:  # probs policy: the C largest gates
                slots = slots[torch.topk(flat_gate[slots].detach(), self.capacity).indices]
            if slots.numel() == 0:
                continue
            rows = sample[slots]
            z = x.index_select(0, rows) @ self.w[e].t()
            h = ((z * z - 1) / math.sqrt(2)) @ self.a[e]
            y = y.index_add(0, rows, flat_gate[slots] * h)
        residual = y - self.labels
        loss = 0.5 * (residual * residual).mean()
        if logits is not None:
            if self.alpha:
                s = torch.sigmoid(logits) if self.sigmoid else torch.softmax(logits, dim=1)
                q = s / s.sum(1, keepdim=True)
                _, fresh = torch.topk(q.detach(), k, dim=1)
                f = torch.bincount(fresh.reshape(-1), minlength=self.experts).to(x.dtype)
                f = f / (x.shape[0] * k)
                loss = loss + self.alpha * self.experts * (f * q.mean(0)).sum()
            if self.beta:
                loss = loss + self.beta * (torch.logsumexp(logits, dim=1) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            self.w -= 0.1 * self.w.grad
            self.a -= 0.1 * self.a.grad
            self.w /= self.w.norm(dim=2, keepdim=True)
            self.w.grad = self.a.grad = None
            if self.wr.grad is not None:
                self.wr -= 0.5 * self.wr.grad
                self.wr.grad = None
            if self.gamma:
                self.bias += self.gamma * torch.sign(load.mean() - load)
            if self.router == "kmeans":
                sums = torch.zeros_like(self.centroids).index_add(0, flat_expert,
                                                                  x[sample])
                n_b = load
                hit = n_b > 0
                self.centroids[hit] += (sums[hit] - n_b[hit, None] * self.centroids[hit]) / (
                    self.counts[hit, None] + n_b[hit, None])
                self.counts += n_b
        return float(loss)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--output", help="write JSON here instead of stdout")
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = {"benchmark": "routing_step_torch", "torch_version": torch.__version__, "routers": {}}
    for router in ROUTERS:
        layer = Layer(router)
        for _ in range(20):
            layer.step()
        times, cpu = [], []
        for _ in range(args.steps):
            t0, c0 = time.perf_counter(), time.process_time()
            loss = layer.step()
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        assert math.isfinite(loss), router
        out["routers"][router] = {"median_seconds": statistics.median(times),
                                  "min_seconds": min(times),
                                  "mean_cpu_seconds": sum(cpu) / len(cpu),
                                  "steps_timed": len(times)}
    # The OpenBLAS core in effect and torch's own 1024^3 fp64 GEMM rate, in this process.
    out["openblas"] = blas_core.report("torch")
    text = json.dumps(out, indent=2)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
