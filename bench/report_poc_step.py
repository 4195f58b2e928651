#!/usr/bin/python3
"""Collects bench/run_poc_step's rounds (WORK_DIR/poc_{np1,np2,numpy}.r*.json, load.json)
into RESULTS_DIR/poc_step.json and poc_step.md: per size the best (lowest) median of each
side over the rounds, the peer/ours ratio, GFLOP/s as a fraction of the best Eigen GEMM rate
of the same run, and the 1 -> 2 rank efficiency.
Usage: report_poc_step.py WORK_DIR RESULTS_DIR"""

import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import best_of_rounds, cpu_model, load  # noqa: E402


def main():
    work, results = sys.argv[1], sys.argv[2]
    rounds = {name: [load(p) for p in sorted(glob.glob(os.path.join(work, name + ".r*.json")))]
              for name in ("poc_np1", "poc_np2", "poc_numpy")}
    ours, ours_np2, peer = (best_of_rounds(rounds[name])
                            for name in ("poc_np1", "poc_np2", "poc_numpy"))
    rows = []
    for a, b, p in zip(ours["sizes"], ours_np2["sizes"], peer["sizes"]):
        rows.append({
            "dim": a["dim"], "particles": a["particles"], "samples": a["samples"],
            "loss": a["loss"], "ours_seconds": a["median_seconds"],
            "ours_np2_seconds": b["median_seconds"], "numpy_seconds": p["median_seconds"],
            "numpy_over_ours": p["median_seconds"] / a["median_seconds"],
            "ours_gflops": a["gflops"], "fraction_of_best_gemm": a["fraction_of_best_gemm"],
            "efficiency_1_to_2": a["median_seconds"] / (2 * b["median_seconds"]),
            "phases": a["phases_median_seconds"], "knn_entropy_seconds": a["knn_entropy_seconds"],
            "round_medians": {"ours": a["round_medians"], "ours_np2": b["round_medians"],
                              "numpy": p["round_medians"]}})
    out = {"benchmark": "poc_step", "cpu_model": cpu_model(), "build": ours["build"],
           "gemm": ours["gemm"], "gemm_best_gflops": ours["gemm_best_gflops"],
           "numpy_blas": peer["blas"], "rounds": ours["rounds"],
           "load": load(os.path.join(work, "load.json")), "sizes": rows}
    with open(os.path.join(results, "poc_step.json"), "w") as f:
        json.dump(out, f, indent=2)
    md = ["# Propagation-of-chaos step: ours vs numpy\n",
          f"One full-batch step of model::FullBatchLangevin (forward, gradient, update, noise) "
          f"vs bench/peers/poc_step_numpy.py, on {out['cpu_model']}, one thread each; best "
          f"median of {out['rounds']} alternating rounds. numpy's OpenBLAS core: "
          f"{peer['blas']['openblas_core']} (OPENBLAS_CORETYPE="
          f"{peer['blas']['OPENBLAS_CORETYPE']}). Best Eigen GEMM of the run: "
          f"{out['gemm_best_gflops']:.1f} GFLOP/s. Load before/after: "
          f"{out['load'].get('before', {}).get('busy_percent', float('nan')):.0f}% / "
          f"{out['load'].get('after', {}).get('busy_percent', float('nan')):.0f}% busy.\n",
          "| d | N | n | loss | ours | numpy | numpy / ours | GFLOP/s (of best GEMM) | "
          "2 ranks (efficiency) | k-NN entropy |",
          "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        fraction = r["fraction_of_best_gemm"]
        md.append(f"| {r['dim']} | {r['particles']} | {r['samples']} | {r['loss']} | "
                  f"{r['ours_seconds'] * 1e3:.3f} ms | {r['numpy_seconds'] * 1e3:.3f} ms | "
                  f"**{r['numpy_over_ours']:.2f}** | {r['ours_gflops']:.1f}"
                  f"{'' if fraction is None else f' ({fraction:.2f})'} | "
                  f"{r['ours_np2_seconds'] * 1e3:.3f} ms ({r['efficiency_1_to_2']:.2f}) | "
                  f"{r['knn_entropy_seconds'] * 1e3:.1f} ms |")
    with open(os.path.join(results, "poc_step.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
