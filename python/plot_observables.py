#!/usr/bin/python3
"""Plot every /observables series of one or more moesim output files against step.

Usage: /usr/bin/python3 python/plot_observables.py RUN.h5 [RUN2.h5 ...] [-o plot.png] [--log]
Runs of different rank counts overlay exactly when the run is deterministic.
"""
import argparse
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def scalar_series(path):
    """{name: (step, value)} for every scalar observable in the file."""
    out = {}
    with h5py.File(path, "r") as f:
        if "observables" not in f:
            return out
        for name, group in f["observables"].items():
            value = group["value"][:]
            if value.ndim == 1:
                out[name] = (group["step"][:], value)
    return out


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("-o", "--output", default="observables.png")
    parser.add_argument("--log", action="store_true", help="logarithmic y axes")
    args = parser.parse_args(argv)

    runs = {path: scalar_series(path) for path in args.files}
    names = sorted({name for series in runs.values() for name in series})
    if not names:
        sys.exit("no scalar observables found in " + ", ".join(args.files))
    fig, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.5), squeeze=False)
    for ax, name in zip(axes[0], names):
        for path, series in runs.items():
            if name in series:
                ax.plot(*series[name], label=path)
        ax.set_title(name)
        ax.set_xlabel("step")
        if args.log:
            ax.set_yscale("log")
    axes[0][0].legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(args.output, dpi=120)
    print("wrote", args.output)


if __name__ == "__main__":
    main(sys.argv[1:])
