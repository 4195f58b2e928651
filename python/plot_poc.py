#!/usr/bin/python3
"""Plots a poc run (moesim run -e poc): (a) the mean squared L2 distance of the systems'
test-set predictions to the reference's against N on log-log axes at a few frame times, each
with its fitted slope and bootstrap interval from /estimates/poc; (b) the heat map over (M, N)
of log10 of the sup-norm distance of a merge of M systems of N particles to the reference
(mean over the draws), as in Figure 1 of arXiv 2502.05784; (c) merges of M systems of N against
one system of M N particles, both against M N; (d) the free energy of the reference and of
system 0 of each N over time.

Usage: /usr/bin/python3 python/plot_poc.py poc.h5 [-o poc.png] [--times 4]
"""

import argparse

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("-o", "--output", default="poc.png")
    parser.add_argument("--times", type=int, default=4, help="frame times shown in (a)")
    args = parser.parse_args()

    with h5py.File(args.file, "r") as f:
        poc = f["estimates/poc"]
        n = poc["N"][()]
        time = poc["time"][()]
        distance = poc["distance"][()]  # [S][N][T]
        slope, low, high = poc["slope"][()], poc["ci_low"][()], poc["ci_high"][()]
        ens = f["estimates/ensemble"]
        m = ens["M"][()]
        merged = ens["distance"][()]  # [R][M][N]
        single = ens["single_system"][()]  # [N][M]
        systems = f["estimates/systems"]
        kind, sys_n, sys_index = systems["kind"][()], systems["N"][()], systems["index"][()]
        free = f["observables/free_energy/value"][()]  # [T][systems]
        free_time = f["observables/free_energy/time"][()]

    fig, axes = plt.subplots(2, 2, figsize=(12, 9.5))
    ax = axes[0, 0]
    shown = np.unique(np.linspace(0, len(time) - 1, args.times).round().astype(int))
    colours = plt.cm.viridis(np.linspace(0, 0.9, len(shown)))
    for colour, k in zip(colours, shown):
        mean_sq = (distance[:, :, k] ** 2).mean(axis=0)
        # The least-squares line of the fit, through the mean of (log N, log mean) with its slope.
        intercept = np.log(mean_sq).mean() - slope[k] * np.log(n).mean()
        ax.loglog(n, mean_sq, "o", color=colour)
        ax.loglog(n, np.exp(intercept) * n ** slope[k], "-", color=colour,
                  label=f"t = {time[k]:g}: slope {slope[k]:.2f} [{low[k]:.2f}, {high[k]:.2f}]")
    ax.loglog(n, mean_sq[0] * n[0] / n, "k:", label="1/N")
    ax.set_xlabel("N")
    ax.set_ylabel("mean over systems of ‖f_N − f_ref‖²_L2 (test set)")
    ax.set_title("(a) propagation of chaos: distance to the reference")
    ax.legend(fontsize=8)

    ax = axes[0, 1]
    heat = np.log10(merged.mean(axis=0))  # [M][N]
    image = ax.pcolormesh(n, m, heat, shading="nearest", cmap="viridis")
    plt.colorbar(image, ax=ax, label="log10 sup-norm distance to the reference")
    ax.set_xlabel("N")
    ax.set_ylabel("M (systems merged)")
    ax.set_title("(b) PoC-based ensembles: merge of M systems of N")

    ax = axes[1, 0]
    mean_merged = merged.mean(axis=0)  # [M][N]
    colours = plt.cm.plasma(np.linspace(0, 0.85, len(n)))
    for i, colour in enumerate(colours):
        ax.loglog(m * n[i], mean_merged[:, i], "-", color=colour, label=f"merge, N = {n[i]:g}")
        has = ~np.isnan(single[i])
        if has.any():
            ax.loglog(m[has] * n[i], single[i][has], "s", color=colour, markerfacecolor="none")
    ax.plot([], [], "ks", markerfacecolor="none", label="one system of M·N")
    ax.set_xlabel("M · N (particles in total)")
    ax.set_ylabel("sup-norm distance to the reference")
    ax.set_title("(c) merged ensembles vs single systems")
    ax.legend(fontsize=7, ncol=2)

    ax = axes[1, 1]
    reference = np.flatnonzero(kind == 1)[0]
    # Frames without the entropy (poc.entropy_every > 1) hold NaN: draw the others only.
    has = np.isfinite(free[:, reference])
    ax.plot(free_time[has], free[has, reference], "k.-", lw=2,
            label=f"reference (N = {sys_n[reference]:g})")
    for s in np.flatnonzero((kind == 0) & (sys_index == 0)):
        ax.plot(free_time[has], free[has, s], ".-", lw=1, label=f"N = {sys_n[s]:g}, system 0")
    ax.set_xlabel("time (η · epochs)")
    ax.set_ylabel("free energy loss + λ'E‖θ‖² + λ Ent (k-NN)")
    ax.set_title("(d) free energy")
    ax.legend(fontsize=8)

    fig.tight_layout()
    fig.savefig(args.output, dpi=120)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
