#!/usr/bin/python3
"""Collects bench/run_routing_step's rounds (WORK_DIR/ours_np{1,2}_{startup,off,on}.r*.json,
peer.r*.json, blas_torch.json, load.json) into RESULTS_DIR/routing_step.json and
routing_step.md:
  - per router, our step time at 1 and 2 ranks (metrics-off runs' /timing/<router> / steps)
    and the PyTorch peer's median step, best (lowest) round of each side, and the ratios
    PyTorch / ours; also the median over rounds;
  - the CPU time of a whole step (all routers) against the peer's, from CPU seconds (start-up
    run subtracted), since wall time on a shared machine mostly measures the other users;
  - the metrics overhead: medians over rounds of the metrics-on vs metrics-off runs (wall and
    CPU of the whole run, wall of the step loop) at 1 and 2 ranks.
Usage: report_routing_step.py WORK_DIR RESULTS_DIR"""

import datetime
import glob
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import cpu_model, load, percentages  # noqa: E402

ROUTERS = ["aux_loss", "loss_free", "sigmoid", "sigmoid_bias", "kmeans", "control"]


def runs(work, pattern):
    return [load(p) for p in sorted(glob.glob(os.path.join(work, pattern)))]


def loop_seconds(run):
    return run["steps"] / run["steps_per_second"] if run["steps_per_second"] else None


def overhead(on, off):
    return on / off - 1.0


def main():
    work, results = sys.argv[1], sys.argv[2]
    ours = {(np, mode): runs(work, f"ours_np{np}_{mode}.r*.json")
            for np in (1, 2) for mode in ("startup", "off", "on")}
    peer = runs(work, "peer.r*.json")
    samples = load(os.path.join(work, "load.json"))
    samples["during_run"] = percentages(samples.pop("stat_start"), samples.pop("stat_end"))
    blas = load(os.path.join(work, "blas_torch.json"))
    reports = [p["openblas"] for p in peer]

    out = {"benchmark": "routing_step", "date": datetime.datetime.now(datetime.timezone.utc)
           .strftime("%Y-%m-%d %H:%M UTC"), "cpu": cpu_model(), "load": samples,
           "rounds": len(peer), "peer": {
               "torch_version": peer[0]["torch_version"],
               "openblas_core": sorted({r["core"] for r in reports if r.get("core")}),
               "forced_coretype": blas.get("coretype") or None, "reason": blas.get("reason"),
               "gemm_gflops": max(r["gemm"]["gflops"] for r in reports)},
           "routers": {}, "cpu_per_step": {}, "metrics_overhead": {}}

    for router in ROUTERS:
        row = {}
        peer_rounds = [p["routers"][router]["median_seconds"] for p in peer]
        row["peer_seconds"] = min(peer_rounds)
        row["peer_round_seconds"] = peer_rounds
        for np in (1, 2):
            rounds = [r["timing_seconds"][router] / r["steps"] for r in ours[(np, "off")]]
            row[f"ours_np{np}_seconds"] = min(rounds)
            row[f"ours_np{np}_round_seconds"] = rounds
            row[f"ratio_np{np}"] = row["peer_seconds"] / min(rounds)
            row[f"ratio_np{np}_median_rounds"] = (statistics.median(peer_rounds) /
                                                  statistics.median(rounds))
        out["routers"][router] = row

    # CPU seconds of one step of all six routers: ours from whole runs (start-up taken out;
    # includes data sampling, which the peer does not do), the peer's summed over routers.
    peer_cpu = [sum(p["routers"][r]["mean_cpu_seconds"] for r in ROUTERS) for p in peer]
    for np in (1, 2):
        startup = statistics.median(r["cpu_seconds"] for r in ours[(np, "startup")])
        per_step = [(r["cpu_seconds"] - startup) / r["steps"] for r in ours[(np, "off")]]
        out["cpu_per_step"][f"np{np}"] = {
            "ours_seconds_median": statistics.median(per_step), "ours_round_seconds": per_step,
            "startup_cpu_seconds": startup, "peer_seconds_median": statistics.median(peer_cpu),
            "ratio": statistics.median(peer_cpu) / statistics.median(per_step)}
        on, off = ours[(np, "on")], ours[(np, "off")]
        entry = {"frames_on": on[0]["frames"], "frames_off": off[0]["frames"]}
        for key, measure in (("wall", lambda r: r["wall_seconds"]),
                             ("cpu", lambda r: r["cpu_seconds"]), ("loop", loop_seconds)):
            m_on = statistics.median(measure(r) for r in on)
            m_off = statistics.median(measure(r) for r in off)
            entry[key] = {"on_median": m_on, "off_median": m_off,
                          "on_rounds": [measure(r) for r in on],
                          "off_rounds": [measure(r) for r in off],
                          "overhead": overhead(m_on, m_off)}
        # Within each metrics-on run, under the same load: /timing/frame (frames and series
        # writes; it also holds each frame's forward and backward on the next batch, which the
        # next step reuses, so this bounds the overhead from above) over /timing/step.
        fractions = [r["timing_seconds"]["frame"] / r["timing_seconds"]["step"] for r in on]
        entry["in_run_frame_over_step"] = {"median": statistics.median(fractions),
                                           "rounds": fractions}
        # The same with each frame at the median frame time (frames after the first, which
        # creates the series in metrics-off runs too): a frame preempted by another user's
        # process (a scheduler slice is milliseconds) no longer counts.
        typical = [statistics.median(r["frame_seconds"][1:]) * (len(r["frame_seconds"]) - 1) /
                   r["timing_seconds"]["step"] for r in on]
        entry["in_run_median_frame_over_step"] = {"median": statistics.median(typical),
                                                  "rounds": typical}
        # CPU of the loop alone: the start-up run's CPU taken out of both.
        entry["cpu_without_startup"] = {
            "overhead": overhead(entry["cpu"]["on_median"] - startup,
                                 entry["cpu"]["off_median"] - startup)}
        out["metrics_overhead"][f"np{np}"] = entry

    os.makedirs(results, exist_ok=True)
    with open(os.path.join(results, "routing_step.json"), "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")

    ms = lambda s: f"{s * 1e3:.3f} ms"  # noqa: E731
    pct = lambda x: f"{100 * x:+.1f}%"  # noqa: E731
    p = out["peer"]
    lines = [
        "# Routing step per router vs PyTorch, and the metrics overhead",
        "",
        f"`bench/run_routing_step`, {out['date']}, {out['rounds']} rounds, CPU: {out['cpu']}.",
        f"Load: before {samples['before']['loadavg']} (busy {samples['before']['busy_percent']:.0f}%), "
        f"during the run busy {samples['during_run']['busy_percent']:.0f}% "
        f"(steal {samples['during_run']['steal_percent']:.0f}%), after {samples['after']['loadavg']}: "
        "the machine is shared, so every side keeps its best round and the CPU-time ratio "
        "is given too.",
        f"Peer: PyTorch {p['torch_version']}, float64, one thread, OpenBLAS core "
        f"{', '.join(p['openblas_core']) or '?'} "
        f"({'forced: OPENBLAS_CORETYPE=' + p['forced_coretype'] if p['forced_coretype'] else 'as detected'}; "
        f"{p['reason']}), its own 1024^3 fp64 GEMM {p['gemm_gflops']:.1f} GFLOP/s.",
        "",
        "Default routing config (d = 32, E = 8 experts x 2 neurons, T = 128, top-2, capacity "
        "1.25 `probs`, aux and z losses, bias and k-means updates). Ours: `/timing/<router>` "
        "of a metrics-off run divided by the steps (no data sampling, as the peer).",
        "",
        "| router | ours `-np 1` | ours `-np 2` | PyTorch | PyTorch / ours `-np 1` | "
        "PyTorch / ours `-np 2` | (median rounds: `-np 1`, `-np 2`) |",
        "|---|---|---|---|---|---|---|",
    ]
    for router, row in out["routers"].items():
        lines.append(
            f"| {router} | {ms(row['ours_np1_seconds'])} | {ms(row['ours_np2_seconds'])} | "
            f"{ms(row['peer_seconds'])} | {row['ratio_np1']:.2f}x | {row['ratio_np2']:.2f}x | "
            f"{row['ratio_np1_median_rounds']:.2f}x, {row['ratio_np2_median_rounds']:.2f}x |")
    lines += ["", "CPU time of one step of all six routers (medians over rounds; ours from whole "
              "runs minus a start-up run, data sampling included; at 2 ranks both ranks' CPU):",
              "", "| ranks | ours CPU / step | PyTorch CPU / step | PyTorch / ours |",
              "|---|---|---|---|"]
    for np, c in out["cpu_per_step"].items():
        lines.append(f"| {np[2:]} | {ms(c['ours_seconds_median'])} | "
                     f"{ms(c['peer_seconds_median'])} | {c['ratio']:.2f}x |")
    lines += ["", "Metrics overhead within each metrics-on run (the same load on both sides): "
              "`/timing/frame` (frames and series writes, including each frame's forward and "
              "backward on the next batch, which the next step reuses: an upper bound) over "
              "`/timing/step`, median over rounds (and each round):", "",
              "| ranks | frame / step | rounds | with each frame at the run's median frame "
              "time | rounds |", "|---|---|---|---|---|"]
    for np, e in out["metrics_overhead"].items():
        f, t = e["in_run_frame_over_step"], e["in_run_median_frame_over_step"]
        lines.append(f"| {np[2:]} | {100 * f['median']:.2f}% | "
                     f"{', '.join(f'{100 * x:.2f}%' for x in f['rounds'])} | "
                     f"{100 * t['median']:.2f}% | "
                     f"{', '.join(f'{100 * x:.2f}%' for x in t['rounds'])} |")
    lines += ["", "Metrics overhead between runs: the default run with all metrics on (frame_every = 50) vs "
              "off (frames only at step 0 and after the last), medians over rounds:", "",
              "| ranks | frames on / off | whole run wall on / off | overhead | whole run CPU "
              "on / off | overhead | CPU without start-up | step loop wall on / off | overhead |",
              "|---|---|---|---|---|---|---|---|---|"]
    for np, e in out["metrics_overhead"].items():
        lines.append(
            f"| {np[2:]} | {e['frames_on']} / {e['frames_off']} | "
            f"{e['wall']['on_median']:.2f} / {e['wall']['off_median']:.2f} s | "
            f"{pct(e['wall']['overhead'])} | {e['cpu']['on_median']:.2f} / "
            f"{e['cpu']['off_median']:.2f} s | {pct(e['cpu']['overhead'])} | "
            f"{pct(e['cpu_without_startup']['overhead'])} | {e['loop']['on_median']:.2f} / "
            f"{e['loop']['off_median']:.2f} s | {pct(e['loop']['overhead'])} |")
    with open(os.path.join(results, "routing_step.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {results}/routing_step.json and {results}/routing_step.md")


if __name__ == "__main__":
    main()
