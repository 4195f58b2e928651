#!/usr/bin/python3
"""Plots a routing run (moesim run -e routing): per router the load CV and MaxVio over steps,
the gradient coupling and the mean pairwise router cosine over steps, the test loss, and the
summary table /estimates/routers as a figure; prints the table.

Usage: /usr/bin/python3 python/plot_routing.py routing.h5 [-o routing.png]
"""

import argparse

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

COLUMNS = ["final_loss", "maxvio", "cv", "drop_rate", "coupling", "router_similarity"]


def read(path):
    """(routers: {name: {observable: (step, value)}}, summary: {column: array}, names)."""
    with h5py.File(path, "r") as f:
        names = [n.decode() if isinstance(n, bytes) else str(n)
                 for n in f["estimates/routers/name"][:]]
        routers = {}
        for name in names:
            obs = f[f"routers/{name}/observables"]
            routers[name] = {key: (obs[key]["step"][:], obs[key]["value"][:]) for key in obs}
        summary = {c: f[f"estimates/routers/{c}"][:] for c in COLUMNS}
    return routers, summary, names


def table_text(summary, names):
    lines = [f"{'router':<14}" + "".join(f"{c:>18}" for c in COLUMNS)]
    for i, name in enumerate(names):
        lines.append(f"{name:<14}" + "".join(f"{summary[c][i]:>18.4g}" for c in COLUMNS))
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("-o", "--output", default="routing.png")
    args = parser.parse_args()
    routers, summary, names = read(args.file)

    fig, axes = plt.subplots(3, 2, figsize=(12, 11))
    panels = [("cv", "load CV (std/mean of tokens per expert)"),
              ("maxvio", "MaxVio = (max - mean)/mean load"),
              ("coupling_mean", "gradient coupling |cos(grad router row, grad expert w)|"),
              ("router_similarity", "mean pairwise |cos| between router rows"),
              ("test_loss", "test loss")]
    for ax, (key, title) in zip(axes.flat, panels):
        for i, name in enumerate(names):
            step, value = routers[name][key]
            if np.all(np.isnan(value)):
                continue  # e.g. no router gradient: no coupling for k-means
            ax.plot(step, value, color=f"C{i}", label=name)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("step")
        if key == "test_loss":
            ax.set_yscale("log")
        ax.legend(fontsize=7)
    ax = axes.flat[5]
    ax.axis("off")
    cells = [[f"{summary[c][i]:.3g}" for c in COLUMNS] for i in range(len(names))]
    table = ax.table(cellText=cells, rowLabels=names, colLabels=COLUMNS, loc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(7)
    ax.set_title("/estimates/routers (load and geometry: means over the second half)",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(args.output, dpi=120)
    print(table_text(summary, names))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
