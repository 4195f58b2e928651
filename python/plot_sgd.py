#!/usr/bin/python3
"""Plot sgd runs: overlap vs step for the MoE and the vanilla network, and steps to
recovery vs d on log-log axes.

Usage: /usr/bin/python3 python/plot_sgd.py RUN.h5 [RUN2.h5 ...] [-o PREFIX]
Writes PREFIX-overlap.png (one panel per run) and PREFIX-recovery.png (runs grouped by
sgd.dim; a cluster never recovered is drawn as an open marker at the run's last step, a
lower bound).
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


def plot_overlaps(runs, output):
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


def plot_recovery(runs, output):
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    runs = sorted(runs, key=lambda r: r["dim"])
    dims = np.array([r["dim"] for r in runs])
    for m, (model, marker) in enumerate((("MoE", "o"), ("vanilla", "s"))):
        n_clusters = runs[0]["recovery"].shape[1]
        for c in range(n_clusters):
            steps = np.array([r["recovery"][m, c] for r in runs], dtype=float)
            last = np.array([r["step"][-1] for r in runs], dtype=float)
            found = steps >= 0
            color = f"C{m * n_clusters + c}"
            ax.loglog(dims[found], steps[found], marker=marker, color=color,
                      label=f"{model}, cluster {c}")
            ax.loglog(dims[~found], last[~found], marker=marker, color=color,
                      linestyle="none", markerfacecolor="none")
    ax.set_xlabel("d")
    ax.set_ylabel("steps to recovery")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(output, dpi=120)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("-o", "--output", default="sgd", help="prefix of the PNG files")
    args = parser.parse_args(argv)
    runs = sorted((load(path) for path in args.files), key=lambda r: r["dim"])
    plot_overlaps(runs, args.output + "-overlap.png")
    plot_recovery(runs, args.output + "-recovery.png")
    print(f"wrote {args.output}-overlap.png and {args.output}-recovery.png")


if __name__ == "__main__":
    main(sys.argv[1:])
