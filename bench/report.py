#!/usr/bin/python3
"""Collects one bench/run's outputs (bench/work/*.json, dd logs, load samples) into
bench/results/results.json and the table bench/results/RESULTS.md. Called by bench/run:
  report.py load WORK_DIR LABEL   sample the machine's load for 5 s (nothing of ours running)
  report.py stat WORK_DIR LABEL   snapshot /proc/stat (start and end of the run)
  report.py collect WORK_DIR RESULTS_DIR"""

import copy
import datetime
import glob
import json
import os
import platform
import re
import statistics
import sys
import time


def load(path):
    with open(path) as f:
        return json.load(f)


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def dd_runs(path):
    """Parses dd's summary lines ("N bytes (...) copied, S s, ...")."""
    runs = []
    with open(path) as f:
        for line in f:
            m = re.match(r"(\d+) bytes .* copied, ([0-9.e+-]+) s", line)
            if m:
                runs.append({"bytes": int(m.group(1)), "seconds": float(m.group(2))})
    return runs


def cpu_times():
    """Aggregate /proc/stat cpu line: (busy, steal, total) in ticks."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    steal = fields[7] if len(fields) > 7 else 0
    total = sum(fields[:8])
    return total - idle - steal, steal, total


def percentages(start, end):
    busy, steal, total = (e - s for s, e in zip(start, end))
    total = max(total, 1)
    return {"busy_percent": 100.0 * busy / total, "steal_percent": 100.0 * steal / total}


def record(work, name, value):
    path = os.path.join(work, "load.json")
    data = load(path) if os.path.exists(path) else {}
    data[name] = value
    with open(path, "w") as f:
        json.dump(data, f, indent=2)


def sample_load(work, label, seconds=5.0):
    start = cpu_times()
    time.sleep(seconds)
    value = percentages(start, cpu_times())
    with open("/proc/loadavg") as f:
        value["loadavg"] = " ".join(f.read().split()[:3])
    value["seconds"] = seconds
    record(work, label, value)


def snapshot_stat(work, label):
    record(work, "stat_" + label, list(cpu_times()))


def best_of_rounds(runs):
    """The first round's document with, per size, the round with the lowest median (and per
    GEMM product the highest rate): other users' load only ever slows a round down."""
    best = copy.deepcopy(runs[0])
    for i, size in enumerate(best["sizes"]):
        candidates = [run["sizes"][i] for run in runs]
        best["sizes"][i] = dict(min(candidates, key=lambda c: c["median_seconds"]))
        best["sizes"][i]["round_medians"] = [c["median_seconds"] for c in candidates]
    if best.get("gemm"):
        for i, product in enumerate(best["gemm"]):
            best["gemm"][i] = max((run["gemm"][i] for run in runs), key=lambda g: g["gflops"])
        best["gemm_best_gflops"] = max(g["gflops"] for g in best["gemm"])
        best["tanh"] = {
            key: (min(run["tanh"][key] for run in runs) if key.endswith("_ns")
                  else best["tanh"][key]) for key in best["tanh"]}
    best["rounds"] = len(runs)
    return best


def ms(seconds):
    return f"{seconds * 1e3:.3g} ms"


def gbps(bytes_per_second):
    return f"{bytes_per_second / 1e9:.2f} GB/s"


def main():
    command, work = sys.argv[1], sys.argv[2]
    if command == "load":
        return sample_load(work, sys.argv[3])
    if command == "stat":
        return snapshot_stat(work, sys.argv[3])
    results = sys.argv[3]
    rounds = {name: [load(p) for p in sorted(glob.glob(os.path.join(work, name + ".r*.json")))]
              for name in ("mfld_np1", "mfld_np2", "mfld_numpy")}
    ours = best_of_rounds(rounds["mfld_np1"])
    ours_np2 = best_of_rounds(rounds["mfld_np2"])
    peer = best_of_rounds(rounds["mfld_numpy"])
    hdf5 = {np: load(os.path.join(work, f"hdf5_np{np}.json")) for np in (1, 2)}
    dd = {np: dd_runs(os.path.join(work, f"dd_np{np}.log")) for np in (1, 2)}
    dd_sync = {np: dd_runs(os.path.join(work, f"dd_sync_np{np}.log")) for np in (1, 2)}
    load_samples = load(os.path.join(work, "load.json"))
    load_samples["during_run"] = percentages(load_samples.pop("stat_start"),
                                             load_samples.pop("stat_end"))

    machine = {
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "compiler": ours["build"]["compiler"],
        "flags": ours["build"]["flags"],
        "eigen": ours["build"]["eigen"],
        "git_commit": ours["build"]["git_commit"],
        "peer_python": peer["blas"]["python"],
        "peer_numpy": peer["blas"]["numpy_version"],
        "peer_blas": peer["blas"]["blas_libraries_mapped"],
        "peer_libblas_alternative": peer["blas"]["libblas_alternative"],
        "peer_threads": {"OPENBLAS_NUM_THREADS": peer["blas"]["OPENBLAS_NUM_THREADS"],
                         "OMP_NUM_THREADS": peer["blas"]["OMP_NUM_THREADS"]},
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "load": load_samples,
    }

    best = ours["gemm_best_gflops"]
    mfld_rows = []
    peer_by_size = {(p["dim"], p["particles"], p["batch"]): p for p in peer["sizes"]}
    for s in ours["sizes"]:
        key = (s["dim"], s["particles"], s["batch"])
        p = peer_by_size[key]
        fwd = next(g for g in ours["gemm"] if g["name"] == "forward_block"
                   and (g["m"], g["k"]) == (s["batch"], s["dim"]))
        mfld_rows.append({
            "size": {"dim": key[0], "particles": key[1], "batch": key[2]},
            "ours_seconds": s["median_seconds"], "peer_seconds": p["median_seconds"],
            "peer_over_ours": p["median_seconds"] / s["median_seconds"],
            "ours_gflops": s["gflops"], "peer_gflops": p["gflops"],
            "fraction_of_best_gemm": s["gflops"] / best,
            "dominant_product_gflops": fwd["gflops"],
            "phases_median_seconds": s["phases_median_seconds"],
        })
    np2 = ours_np2["sizes"][0]
    np1_same = next(s for s in ours["sizes"]
                    if (s["dim"], s["particles"], s["batch"])
                    == (np2["dim"], np2["particles"], np2["batch"]))
    io_rows = []
    for np_, h in hdf5.items():
        rates = {}
        for name, runs in (("dd", dd[np_]), ("dd_sync", dd_sync[np_])):
            if any(r["bytes"] != h["total_bytes"] for r in runs):
                raise SystemExit(f"{name} wrote other than {h['total_bytes']} bytes")
            rates[name] = h["total_bytes"] / statistics.median(r["seconds"] for r in runs)
        io_rows.append({
            "nranks": np_, "bytes": h["total_bytes"], "frames": h["frames"],
            "frame_bytes": h["frame_bytes"], "ours_bytes_per_second": h["bytes_per_second"],
            "dd_sync_bytes_per_second": rates["dd_sync"],
            "dd_bytes_per_second": rates["dd"],
            "ours_over_dd_sync": h["bytes_per_second"] / rates["dd_sync"],
            "ours_over_dd": h["bytes_per_second"] / rates["dd"],
            "ours_rep_seconds": h["rep_seconds"],
            "dd_sync_rep_seconds": [r["seconds"] for r in dd_sync[np_]],
            "dd_rep_seconds": [r["seconds"] for r in dd[np_]],
            "create_and_close_median_seconds": h["create_and_close_median_seconds"],
        })

    out = {
        "machine": machine,
        "mfld_step": {"rows": mfld_rows, "flop_count": ours["flop_count"],
                      "block_size": ours["block_size"],
                      "np2": {"size": [np2["dim"], np2["particles"], np2["batch"]],
                              "seconds": np2["median_seconds"],
                              "speedup_over_np1": np1_same["median_seconds"] / np2["median_seconds"]}},
        "gemm": {"best_gflops": best, "products": ours["gemm"], "tanh": ours["tanh"]},
        "hdf5_write": io_rows,
        "raw_rounds": rounds,
    }
    os.makedirs(results, exist_ok=True)
    with open(os.path.join(results, "results.json"), "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")

    md = []
    md.append("# Benchmark results\n")
    md.append(f"Generated by `bench/run` on {machine['date']} (git {machine['git_commit']}). "
              f"Machine: {machine['cpu_model']}, {machine['cores']} cores; "
              f"{machine['compiler']}, `{machine['flags'].strip()}`, Eigen {machine['eigen']}. "
              "Machine-readable: [`results.json`](results.json).\n")
    ld = load_samples
    md.append(f"Machine load, sampled for 5 s with nothing of this run active: before "
              f"{ld['before']['busy_percent']:.0f}% of both CPUs busy, "
              f"{ld['before']['steal_percent']:.0f}% stolen by the hypervisor (load average "
              f"{ld['before']['loadavg']}); after {ld['after']['busy_percent']:.0f}% busy, "
              f"{ld['after']['steal_percent']:.0f}% stolen ({ld['after']['loadavg']}). During "
              f"the run (ours included): {ld['during_run']['busy_percent']:.0f}% busy, "
              f"{ld['during_run']['steal_percent']:.0f}% stolen. This is a shared 2-core VM "
              "with other engineers building and testing: timings are noisy; medians are "
              "reported.\n")
    md.append("## mfld particle step (1 rank) vs numpy\n")
    md.append("| benchmark (d x N x B) | ours (median/step) | numpy peer | peer / ours | "
              "ours GFLOP/s | fraction of best GEMM | dominant product (B x d)(d x 64) |")
    md.append("|---|---|---|---|---|---|---|")
    for r in mfld_rows:
        sz = r["size"]
        md.append(f"| mfld step {sz['dim']} x {sz['particles']} x {sz['batch']} | "
                  f"{ms(r['ours_seconds'])} | {ms(r['peer_seconds'])} | "
                  f"{r['peer_over_ours']:.2f} | {r['ours_gflops']:.1f} | "
                  f"{r['fraction_of_best_gemm']:.2f} | {r['dominant_product_gflops']:.1f} GFLOP/s |")
    n2 = out["mfld_step"]["np2"]
    md.append("")
    md.append(f"At 2 ranks (`mpirun -np 2`), {n2['size'][0]} x {n2['size'][1]} x {n2['size'][2]}: "
              f"{ms(n2['seconds'])} per step, {n2['speedup_over_np1']:.2f}x the 1-rank speed.\n")
    md.append(f"Each side ran {ours['rounds']} rounds, alternating (ours, numpy, ours at 2 ranks, "
              "...); the table keeps each side's lowest median per size (every round's median is "
              "in results.json), and the highest GEMM rate per product.\n")
    md.append("peer / ours > 1 means our step is faster. GFLOP/s counts 4 B N d per step "
              "(forward and gradient products only; tanh, sampling and noise are not counted).\n")
    md.append("Phases of our step (median ms: sample / predict / data_gradient / rest = update "
              "and Langevin noise):\n")
    for r in mfld_rows:
        ph = r["phases_median_seconds"]
        sz = r["size"]
        md.append(f"- {sz['dim']} x {sz['particles']} x {sz['batch']}: "
                  f"{ph['sample'] * 1e3:.3g} / {ph['predict'] * 1e3:.3g} / "
                  f"{ph['data_gradient'] * 1e3:.3g} / {ph['update_and_noise'] * 1e3:.3g}")
    md.append("")
    md.append("## Eigen GEMM on this machine (fp64, 1 core)\n")
    md.append("| product | m x k x n | GFLOP/s |")
    md.append("|---|---|---|")
    for g in ours["gemm"]:
        md.append(f"| {g['name']} | {g['m']} x {g['k']} x {g['n']} | {g['gflops']:.1f} |")
    md.append(f"\nBest: {best:.1f} GFLOP/s (the denominator of the fractions above). "
              f"Scalar std::tanh: {ours['tanh']['std_tanh_ns']:.2f} ns/element; an Eigen "
              f"packet-exp tanh: {ours['tanh']['eigen_exp_tanh_ns']:.2f} ns/element.\n")
    md.append("## HDF5 series frame writes vs dd\n")
    md.append("| benchmark | ours | dd, sync per frame (`oflag=dsync`) | ours / dd sync | "
              "dd, page cache only (no sync) | ours / dd |")
    md.append("|---|---|---|---|---|---|")
    for r in io_rows:
        md.append(f"| Series::append, {r['frames']} frames x {r['frame_bytes'] / 2**20:.0f} MiB, "
                  f"{r['nranks']} rank{'s' if r['nranks'] > 1 else ''} | "
                  f"{gbps(r['ours_bytes_per_second'])} | {gbps(r['dd_sync_bytes_per_second'])} | "
                  f"{r['ours_over_dd_sync']:.2f} | {gbps(r['dd_bytes_per_second'])} | "
                  f"{r['ours_over_dd']:.2f} |")
    md.append("")
    md.append("## Notes\n")
    md.append(f"- numpy peer: `bench/peers/mfld_step_numpy.py` under {machine['peer_python']}, "
              f"numpy {machine['peer_numpy']}, BLAS = Debian OpenBLAS (`libopenblas0-pthread`; "
              f"libblas.so.3 alternative -> `{machine['peer_libblas_alternative']}`; mapped: "
              f"{', '.join('`' + p + '`' for p in machine['peer_blas'])}), **single-threaded** "
              "(`OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1`). It does the same work per step: "
              "B x d normal inputs, tanh-teacher labels (m = 4), forward, residual, gradient, "
              "weight decay, N x d Langevin normals. Differences: numpy forms the two products "
              "whole, we form them per block of 64 particles (fixed shapes, for bitwise "
              "rank-count independence); numpy's normals are ziggurat on its Philox bit "
              "generator, ours are Box-Muller on Philox4x32-10 keyed by (particle, step).")
    md.append("- Our step: `model::MeanFieldLangevin::step` with tanh, block size "
              f"{ours['block_size']}, median over >= 10 steps or ~2 s after 3 warm-up steps; at "
              "2 ranks each step's time is the slowest rank's.")
    md.append("- GEMM rates: Eigen `noalias()` products, median of repeated groups, measured in "
              "the same process just before the step timings.")
    md.append("- HDF5: `io::Series::distributed` through `io::OutputFile::create` (MPI-IO "
              "driver), value[F][N][d] fp64, one collective append per frame, each followed by "
              "the series' `H5Fflush`. Under the MPI-IO driver `H5Fflush` calls "
              "`MPI_File_sync`, which is an **fsync on every rank per frame** (strace: F + 1 "
              "fsync calls per rank for F frames; HDF5 1.10.8, Open MPI 4.1). The like-for-like "
              "peer is therefore `dd if=/dev/zero of=<same dir>/dd.bin bs=<frame bytes> count=F "
              "oflag=dsync` (each frame-sized write synced); plain dd without `conv=fsync` "
              "(page cache only) is shown as the upper bound. Same directory (bench/work/io), "
              "same byte count, same run; median of 3 repetitions, a new file each time; file "
              "creation and close are excluded from ours (reported in results.json).")
    with open(os.path.join(results, "RESULTS.md"), "w") as f:
        f.write("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
