#!/usr/bin/python3
"""Plot the convergence rates of a moesim `rates` run: mean loss vs n on log-log axes.

Usage: /usr/bin/python3 python/plot_rates.py RUN.h5 [-o rates.png] [--loss voronoi ...]
One panel per loss under /estimates: the mean over replicates at each n (bars: the
replicates' 10-90% range), the fitted line exp(intercept) n^slope, and the slope with its
bootstrap interval in the legend.
"""
import argparse
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


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("-o", "--output", default="rates.png")
    parser.add_argument("--loss", action="append", help="loss to plot (default: all)")
    args = parser.parse_args(argv)

    estimates = read_estimates(args.file)
    names = args.loss or sorted(estimates, key=lambda n: (n != "voronoi", n))
    missing = [n for n in names if n not in estimates]
    if missing:
        sys.exit(f"{args.file}: no loss {', '.join(missing)}; have {', '.join(estimates)}")
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.6), squeeze=False)
    for ax, name in zip(axes[0], names):
        e = estimates[name]
        n = e["n"].astype(float)
        loss = e["loss"]
        mean = loss.mean(axis=0)
        low, high = np.percentile(loss, [10, 90], axis=0)
        ax.errorbar(n, mean, yerr=[mean - low, high - mean], fmt="o", capsize=3,
                    label="mean over replicates")
        grid = np.geomspace(n.min(), n.max(), 50)
        ax.plot(grid, np.exp(e["intercept"]) * grid ** e["slope"], "-",
                label=f"slope {e['slope']:.3f} [{e['ci_low']:.3f}, {e['ci_high']:.3f}]")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("n")
        ax.set_title(name)
        ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(args.output, dpi=120)
    print("wrote", args.output)


if __name__ == "__main__":
    main(sys.argv[1:])
