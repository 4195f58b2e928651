#!/usr/bin/python3
"""Plot the convergence rates of moesim `rates` runs: loss vs n on log-log axes.

Usage: /usr/bin/python3 python/plot_rates.py RUN.h5 [RUN2.h5 ...] [-o rates.png] [--loss voronoi ...]
One panel per loss under /estimates. For each file: the mean over replicates at each n
(the quantity whose slope /estimates reports), the median with bars from the replicates'
10% to 90% quantiles (robust: one outlying replicate can put the mean above the 90%
quantile, so the bars are drawn around the median, never as mean +- something), and the
fitted line exp(intercept) n^slope with the slope and its bootstrap interval in the legend.
Several files overlay on the same panels (e.g. sigmoid vs softmax_regression on one truth);
a loss is drawn wherever a file has it. A loss the run marks as not identified
(/estimates/<loss>/identified = 0, e.g. the gate losses of a top-1 truth) says so in its title.
"""
import argparse
import os
import sys

import h5py
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read_estimates(path):
    """{loss name: dict(n, loss, slope, intercept, ci_low, ci_high)} from /estimates."""
    out = {}
    with h5py.File(path, "r") as f:
        if "estimates" not in f:
            sys.exit(f"{path}: no /estimates group (not a finished rates run?)")
        for name, group in f["estimates"].items():
            if name == "fits" or "slope" not in group:
                continue
            out[name] = {key: group[key][()] for key in group.keys()}
    return out


def summary(loss):
    """mean, median, 10% and 90% quantiles over replicates (rows), ignoring non-finite ones."""
    loss = np.where(np.isfinite(loss), loss, np.nan)
    mean = np.nanmean(loss, axis=0)
    low, median, high = np.nanpercentile(loss, [10, 50, 90], axis=0)
    return mean, median, low, high


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", metavar="file")
    parser.add_argument("-o", "--output", default="rates.png")
    parser.add_argument("--loss", action="append", help="loss to plot (default: all)")
    args = parser.parse_args(argv)

    runs = [(os.path.splitext(os.path.basename(p))[0], read_estimates(p)) for p in args.files]
    available = sorted({n for _, e in runs for n in e}, key=lambda n: (n != "voronoi", n))
    names = args.loss or available
    missing = [n for n in names if n not in available]
    if missing:
        sys.exit(f"no file has loss {', '.join(missing)}; have {', '.join(available)}")
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.6), squeeze=False)
    for ax, name in zip(axes[0], names):
        for index, (label, estimates) in enumerate(runs):
            if name not in estimates:
                continue
            e = estimates[name]
            color = f"C{index}"
            prefix = f"{label}: " if len(runs) > 1 else ""
            n = e["n"].astype(float)
            mean, median, low, high = summary(e["loss"])
            # Bars around the median, so they are never negative.
            ax.errorbar(n, median, yerr=[median - low, high - median], fmt="s", ms=3,
                        capsize=3, color=color, alpha=0.6,
                        label=f"{prefix}median, 10-90%")
            ax.plot(n, mean, "o", color=color, mfc="none", label=f"{prefix}mean")
            grid = np.geomspace(n.min(), n.max(), 50)
            ax.plot(grid, np.exp(e["intercept"]) * grid ** e["slope"], "-", color=color,
                    label=f"{prefix}slope {e['slope']:.3f} [{e['ci_low']:.3f}, {e['ci_high']:.3f}]")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("n")
        unidentified = any(not e[name].get("identified", 1) for _, e in runs if name in e)
        ax.set_title(f"{name} (not identified)" if unidentified else name)
        ax.legend(fontsize="x-small")
    fig.tight_layout()
    fig.savefig(args.output, dpi=120)
    print("wrote", args.output)


if __name__ == "__main__":
    main(sys.argv[1:])
