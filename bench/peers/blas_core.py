#!/usr/bin/python3
"""Which OpenBLAS kernel a Python peer runs on, and the best one this CPU allows.

Debian's OpenBLAS 0.3.21 (DYNAMIC_ARCH) picks its kernel ("core") from the CPU at load time
and falls back to a generic one (Prescott) on CPUs it does not recognise, e.g. some virtual
Xeons: numpy's GEMM then runs 3-4x slower and every ratio against it is inflated. This module
asks OpenBLAS itself, inside the peer's interpreter (openblas_get_corename through ctypes on
the libopenblas mapped into the process; threadpoolctl's view too when it is installed), and
measures the peer's own fp64 GEMM rate. bench/run uses it to run the peers with
OPENBLAS_CORETYPE set to the best core when the detected one is below it (peers only, never
tests or CI).

  blas_core.py probe --peer numpy|torch      JSON: core in effect, config, GEMM rate, check
  blas_core.py choose --peer numpy|torch --output FILE
      probes with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset, then, if the core detected is
      below the best for this CPU, with OPENBLAS_CORETYPE=<best>; prints the OPENBLAS_CORETYPE
      value the peer should run with (empty: leave it unset) and writes both probes to FILE.
"""

import argparse
import ctypes
import json
import os
import subprocess
import sys
import time

# Names OpenBLAS 0.3.21 accepts in OPENBLAS_CORETYPE (driver/others/dynamic.c) for x86-64,
# ranked by their fp64 kernels (the peers' products are fp64). A core ranked below best_core()
# is "generic" for this CPU. Cooperlake ranks with SkylakeX: in Debian's 0.3.21 build its fp64
# kernels are copies of SkylakeX's (dgemm_kernel_COOPERLAKE and dgemm_kernel_SKYLAKEX are both
# 0x3681 bytes, `nm -D`); it adds only bf16 (sbgemm) kernels. That build has no SapphireRapids
# core, so a Sapphire Rapids CPU (AMX, avx512_fp16) is best served by SkylakeX/Cooperlake.
CORE_RANK = {
    "Prescott": 0, "Katmai": 0, "Coppermine": 0, "Northwood": 0, "Banias": 0, "Atom": 0,
    "Athlon": 0, "Opteron": 0, "Opteron_SSE3": 0, "Nano": 1, "Core2": 1, "Penryn": 1,
    "Dunnington": 1, "Nehalem": 2, "Barcelona": 2, "Bobcat": 2, "Sandybridge": 3,
    "Bulldozer": 3, "Piledriver": 3, "Steamroller": 3, "Excavator": 3, "Haswell": 4, "Zen": 4,
    "SkylakeX": 5, "Cooperlake": 5,
}
SIMD_FLAGS = ("sse3", "ssse3", "sse4_1", "sse4_2", "avx", "fma", "avx2", "avx512f", "avx512cd",
              "avx512bw", "avx512dq", "avx512vl", "avx512_bf16", "amx_tile")


def cpu_facts():
    """Vendor, model name and flags of CPU 0 (/proc/cpuinfo)."""
    facts = {"vendor": "unknown", "model": "unknown", "flags": []}
    with open("/proc/cpuinfo") as f:
        for line in f:
            key, _, value = line.partition(":")
            key, value = key.strip(), value.strip()
            if key == "vendor_id":
                facts["vendor"] = value
            elif key == "model name":
                facts["model"] = value
            elif key == "flags":
                facts["flags"] = value.split()
                break
    facts["simd"] = [f for f in SIMD_FLAGS if f in facts["flags"]]
    return facts


def best_core(vendor, flags):
    """The fastest OpenBLAS 0.3.21 core (for fp64) whose instructions this CPU has; with bf16
    (Cooper Lake, Sapphire Rapids) that is Cooperlake, whose fp64 kernels equal SkylakeX's."""
    has = set(flags)
    if {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"} <= has:
        return "Cooperlake" if "avx512_bf16" in has else "SkylakeX"
    if {"avx2", "fma"} <= has:
        return "Zen" if vendor == "AuthenticAMD" else "Haswell"
    if "avx" in has:
        return "Sandybridge"
    if "sse4_2" in has:
        return "Nehalem"
    if "ssse3" in has:
        return "Core2"
    return "Prescott"


def openblas_core():
    """OpenBLAS's own answer inside this process: the libopenblas mapped here (numpy and torch
    reach it through libblas.so.3), its core name (openblas_get_corename), config string and
    thread count; None if no mapped BLAS is OpenBLAS. Call after the peer's first product."""
    paths = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split()
            if len(fields) >= 6 and "blas" in os.path.basename(fields[-1]):
                if fields[-1] not in paths:
                    paths.append(fields[-1])
    for path in paths:
        lib = ctypes.CDLL(path)  # already loaded: the same handle the peer uses
        if not hasattr(lib, "openblas_get_corename"):
            continue
        lib.openblas_get_corename.restype = ctypes.c_char_p
        lib.openblas_get_config.restype = ctypes.c_char_p
        out = {"library": os.path.realpath(path),
               "core": lib.openblas_get_corename().decode(),
               "config": lib.openblas_get_config().decode(),
               "threads": lib.openblas_get_num_threads()}
        try:
            import threadpoolctl
            out["threadpoolctl"] = [
                {key: info.get(key) for key in ("internal_api", "architecture", "num_threads",
                                                "version", "filepath")}
                for info in threadpoolctl.threadpool_info()]
        except ImportError:
            out["threadpoolctl"] = None
        return out
    return None


def peer_matmul(peer):
    """(matmul, random matrix, reference product) for the peer's library, fp64."""
    if peer == "numpy":
        import numpy as np
        rng = np.random.default_rng(1)
        return ((lambda a, b: a @ b), (lambda n: rng.standard_normal((n, n))),
                (lambda a, b: np.einsum("ij,jk->ik", a, b, optimize=False)))
    import torch
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(1)
    return (torch.mm, (lambda n: torch.randn(n, n, generator=gen, dtype=torch.float64)),
            (lambda a, b: (a.unsqueeze(2) * b.unsqueeze(0)).sum(1)))


def gemm_rate(peer, n=1024, min_seconds=1.0):
    """The peer's own n^3 fp64 GEMM rate (GFLOP/s, median of >= 5 products) in this process,
    and whether a 96^3 product agrees with a non-BLAS reference to 1e-12 (a forced core must
    still compute right)."""
    matmul, random, reference = peer_matmul(peer)
    a, b = random(96), random(96)
    exact = reference(a, b)
    error = float(abs(matmul(a, b) - exact).max() / abs(exact).max())
    a, b = random(n), random(n)
    matmul(a, b)
    times = []
    start = time.perf_counter()
    while len(times) < 5 or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        matmul(a, b)
        times.append(time.perf_counter() - t0)
    times.sort()
    median = times[len(times) // 2]
    return {"n": n, "gflops": 2.0 * n ** 3 / median / 1e9, "products_timed": len(times),
            "check_relative_error": error, "correct": error < 1e-12}


def report(peer, gemm_seconds=1.0):
    """What a peer records next to its timings: OpenBLAS core in effect, the environment that
    chose it, the CPU's best core, and its own GEMM rate measured now."""
    cpu = cpu_facts()
    gemm = gemm_rate(peer, min_seconds=gemm_seconds)  # loads the BLAS
    core = openblas_core()
    out = {"openblas": core, "cpu": {key: cpu[key] for key in ("vendor", "model", "simd")},
           "best_core": best_core(cpu["vendor"], cpu["flags"]),
           "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
           "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE"),
           "gemm": gemm}
    out["core"] = core["core"] if core else None
    return out


def probe_subprocess(peer, coretype):
    """report() in a fresh interpreter with OPENBLAS_CORETYPE = coretype (None: unset) and
    OPENBLAS_L2_SIZE unset; None if it crashed (e.g. an illegal instruction)."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE",
                                                             "OPENBLAS_L2_SIZE")}
    env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = "1"
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    run = subprocess.run([sys.executable, os.path.abspath(__file__), "probe", "--peer", peer],
                         env=env, capture_output=True, text=True)
    if run.returncode != 0:
        return {"failed": f"exit {run.returncode}", "stderr": run.stderr[-2000:]}
    return json.loads(run.stdout)


def choose(peer):
    """The OPENBLAS_CORETYPE a peer should run with ("" = unset), and the probes behind it."""
    cpu = cpu_facts()
    best = best_core(cpu["vendor"], cpu["flags"])
    doc = {"peer": peer, "cpu": cpu, "best_core": best,
           "environment": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE",
                                                          "OPENBLAS_L2_SIZE")}}
    detected = probe_subprocess(peer, None)
    doc["detected"] = detected
    choice, reason = "", "the core OpenBLAS detects is the best this CPU supports"
    if "failed" in detected:
        # Unsetting crashed the peer: keep the environment's setting, whatever it is.
        choice = os.environ.get("OPENBLAS_CORETYPE", "")
        reason = "OpenBLAS's own detection failed; the environment's OPENBLAS_CORETYPE is kept"
    elif detected["core"] is None:
        reason = "the peer's BLAS is not OpenBLAS: nothing to choose"
    elif CORE_RANK.get(detected["core"], 0) < CORE_RANK[best]:
        forced = probe_subprocess(peer, best)
        doc["forced"] = forced
        if "failed" not in forced and forced["core"] == best and forced["gemm"]["correct"]:
            choice = best
            reason = (f"OpenBLAS detects {detected['core']} (generic for this CPU); forced "
                      f"{best}")
        else:
            reason = (f"OpenBLAS detects {detected['core']}; forcing {best} failed or computed "
                      "wrong, so the detected core is kept")
    doc["coretype"] = choice
    doc["reason"] = reason
    return doc


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("probe", "choose"))
    parser.add_argument("--peer", choices=("numpy", "torch"), default="numpy")
    parser.add_argument("--output", help="choose: write the probes here")
    args = parser.parse_args()
    if args.command == "probe":
        print(json.dumps(report(args.peer)))
        return
    doc = choose(args.peer)
    if args.output:
        with open(args.output, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
    print(doc["coretype"])


if __name__ == "__main__":
    main()
