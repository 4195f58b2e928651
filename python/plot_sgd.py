#!/usr/bin/python3
"""Plot sgd runs: overlap vs step for the MoE and the vanilla network, and steps to
recovery vs d on log-log axes.

Usage: /usr/bin/python3 python/plot_sgd.py RUN.h5 [RUN2.h5 ...] [-o PREFIX] [--threshold T]
Writes PREFIX-overlap.png (one panel per d, its first run) and PREFIX-recovery.png (runs grouped by
sgd.dim, e.g. several seeds per d: the steps until every cluster is recovered, per run and
their median per d; a run in which some cluster is never recovered counts at its last step,
a lower bound, drawn open), and prints the medians and the fitted log-log slopes.
--threshold T recomputes the recovery steps from the stored overlap series (first frame at
which a cluster's overlap reaches T) instead of the run's /estimates/steps_to_recovery (made
with sgd.recovery_threshold): a weaker threshold such as 0.5 gives a first-crossing time.
"""
import argparse
import re
import sys

import h5py
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def config_value(config, key):
    """A value of the [sgd] or [run] table of the stored TOML config, as text."""
    table, name = key.split(".")
    section = re.search(r"^\[" + table + r"\]\n(.*?)(?=^\[|\Z)", config, re.S | re.M)
    match = re.search(r"^" + name + r"\s*=\s*(.+)$", section.group(1), re.M) if section else None
    return match.group(1).strip() if match else None


def load(path):
    with h5py.File(path, "r") as f:
        obs = f["observables"]
        config = f["config"][()].decode()
        return {
            "path": path,
            "dim": int(config_value(config, "sgd.dim")),
            "threshold": float(config_value(config, "sgd.recovery_threshold")),
            "step": obs["overlap_vanilla/step"][:],
            "moe": obs["overlap_moe_routed/value"][:],
            "vanilla": obs["overlap_vanilla/value"][:],
            "recovery": f["estimates/steps_to_recovery"][:],
        }


def first_crossings(run, threshold):
    """Per model and cluster, the first frame step at which the overlap reaches threshold (-1 if
    never): the layout of /estimates/steps_to_recovery, from the overlap series."""
    rec = np.full((2, run["moe"].shape[1]), -1.0)
    for m, series in enumerate((run["moe"], run["vanilla"])):
        for c in range(series.shape[1]):
            hit = np.nonzero(series[:, c] >= threshold)[0]
            if hit.size:
                rec[m, c] = float(run["step"][hit[0]])
    return rec


def plot_overlaps(runs, output):
    # One panel per d: the first run given at that d.
    firsts = {}
    for run in runs:
        firsts.setdefault(run["dim"], run)
    runs = list(firsts.values())
    fig, axes = plt.subplots(1, len(runs), figsize=(4.5 * len(runs), 3.5), squeeze=False)
    for ax, run in zip(axes[0], runs):
        for c in range(run["moe"].shape[1]):
            ax.plot(run["step"], run["moe"][:, c], color=f"C{c}", label=f"MoE, cluster {c}")
            ax.plot(run["step"], run["vanilla"][:, c], color=f"C{c}", linestyle="--",
                    label=f"vanilla, cluster {c}")
        ax.axhline(run["threshold"], color="grey", linewidth=0.8)
        ax.set_title(f"d = {run['dim']}")
        ax.set_xlabel("step")
        ax.set_ylim(0, 1.02)
    axes[0][0].set_ylabel("overlap |<w, w*_c>| / |w|")
    axes[0][0].legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(output, dpi=120)


def recovery_table(runs):
    """Per model and d: the steps until every cluster is recovered in each run (the run's last
    step if some cluster never is, a lower bound), their median over the runs (seeds) at that
    d, and whether that median is a lower bound."""
    dims = sorted({r["dim"] for r in runs})
    table = {}
    for m, model in enumerate(("MoE", "vanilla")):
        rows = []
        for d in dims:
            steps, censored = [], []
            for r in (r for r in runs if r["dim"] == d):
                rec = r["recovery"][m]
                done = bool(np.all(rec >= 0))
                steps.append(float(rec.max()) if done else float(r["step"][-1]))
                censored.append(not done)
            order = np.argsort(steps, kind="stable")
            mid = order[(len(order) - 1) // 2]  # lower median: one of the runs
            rows.append({"dim": d, "steps": steps, "censored": censored,
                         "median": steps[mid], "lower_bound": censored[mid]})
        table[model] = rows
    return table


def fitted_slope(rows):
    """Least-squares slope of log(median steps) against log d over the d whose median is not
    a lower bound (None with fewer than two)."""
    points = [(r["dim"], r["median"]) for r in rows if not r["lower_bound"] and r["median"] > 0]
    if len(points) < 2:
        return None
    x, y = np.log([p[0] for p in points]), np.log([p[1] for p in points])
    return float(np.polyfit(x, y, 1)[0])


def plot_recovery(runs, output):
    """Steps until every cluster is recovered vs d on log-log axes: one small marker per run,
    a large one for the median over runs at each d (open: a lower bound, some cluster not
    recovered within the run), with the fitted slope in the legend."""
    table = recovery_table(runs)
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    for m, (model, marker) in enumerate((("MoE", "o"), ("vanilla", "s"))):
        rows, color = table[model], f"C{m}"
        slope = fitted_slope(rows)
        fitted = [r["dim"] for r in rows if not r["lower_bound"]]
        label = model + (f" (slope {slope:.2f}, d = {fitted[0]}-{fitted[-1]})"
                         if slope is not None else "")
        for r in rows:
            for steps, censored in zip(r["steps"], r["censored"]):
                ax.loglog([r["dim"]], [steps], marker=marker, color=color, markersize=3,
                          alpha=0.5, markerfacecolor="none" if censored else color,
                          linestyle="none")
        dims = np.array([r["dim"] for r in rows])
        medians = np.array([r["median"] for r in rows])
        bound = np.array([r["lower_bound"] for r in rows])
        ax.loglog(dims, medians, color=color, linewidth=0.8)
        ax.loglog(dims[~bound], medians[~bound], marker=marker, color=color, linestyle="none",
                  label=label if (~bound).any() else None)
        ax.loglog(dims[bound], medians[bound], marker=marker, color=color, linestyle="none",
                  markerfacecolor="none", label=f"{model}, lower bound" if bound.any() else None)
        print(f"{model}: median steps until every cluster is recovered, per d: " +
              ", ".join(f"d={r['dim']}: {'>=' if r['lower_bound'] else ''}{r['median']:.0f}"
                        f" (runs {[int(s) for s in r['steps']]})" for r in rows) +
              (f"; log-log slope {slope:.2f}" if slope is not None else ""))
    dims = sorted({r["dim"] for r in runs})
    ax.set_xticks(dims, [str(d) for d in dims])
    ax.minorticks_off()
    ax.set_xlabel("d")
    ax.set_ylabel(f"steps until every cluster's overlap >= {runs[0]['threshold']:g}")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(output, dpi=120)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("-o", "--output", default="sgd", help="prefix of the PNG files")
    parser.add_argument("--threshold", type=float, default=None,
                        help="recovery threshold recomputed from the overlap series")
    args = parser.parse_args(argv)
    runs = sorted((load(path) for path in args.files), key=lambda r: r["dim"])
    if args.threshold is not None:
        for run in runs:
            run["threshold"] = args.threshold
            run["recovery"] = first_crossings(run, args.threshold)
        print(f"recovery threshold {args.threshold} (from the overlap series)")
    plot_overlaps(runs, args.output + "-overlap.png")
    plot_recovery(runs, args.output + "-recovery.png")
    print(f"wrote {args.output}-overlap.png and {args.output}-recovery.png")


if __name__ == "__main__":
    main(sys.argv[1:])
