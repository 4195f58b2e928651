#!/usr/bin/python3
"""Plots a misspec run (moesim run -e misspec): per method a heat map of the mean squared error
of the means and of their distance from the mixture centre over (rho, SNR), with the theory's
collapse boundary rho_c(SNR) and the measured crossings drawn on it, and the hard-assignment
estimate along the true direction against the closed form m = mu erf(mu / (sigma sqrt 2)) +
sigma sqrt(2 / pi) exp(-mu^2 / (2 sigma^2)) (symmetric geometry).

Usage: /usr/bin/python3 python/plot_misspec.py misspec.h5 [-o misspec.png]
"""

import argparse
from math import erf, exp, pi, sqrt

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def sigma_of(f):
    """misspec.sigma from the run's resolved config."""
    section = None
    for line in f["config"][()].decode().splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "misspec" and line.startswith("sigma"):
            return float(line.split("=")[1])
    return 1.0


def heat_map(ax, rho, snr, values, title, threshold):
    # Grid cells centred on the grid points (log SNR axis).
    log_snr = np.log10(snr)
    image = ax.pcolormesh(log_snr, rho, np.log10(np.maximum(values, 1e-12)), shading="nearest",
                          cmap="viridis")
    plt.colorbar(image, ax=ax, label="log10")
    if threshold is not None:
        ax.plot(np.log10(threshold["snr"]), threshold["theory"], "w-", lw=2,
                label=r"theory $\rho_c^2 = 1 + \lambda_{max}/\sigma^2$")
        ax.plot(np.log10(threshold["snr"]), threshold["measured"], "r o", ms=5,
                label="measured crossing")
        ax.legend(loc="upper left", fontsize=7)
    ax.set_xlabel("log10 SNR")
    ax.set_ylabel(r"$\rho = \tau/\sigma$")
    ax.set_title(title, fontsize=9)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("file")
    parser.add_argument("-o", "--output", default=None)
    args = parser.parse_args()
    with h5py.File(args.file, "r") as f:
        est = f["estimates"]
        methods = [m for m in ("em", "hard") if m in est]
        threshold = None
        if "threshold" in est:
            t = est["threshold"]
            threshold = {"snr": t["snr"][:], "theory": t["rho_collapse_theory"][:],
                         "measured": t["rho_collapse_measured"][:]}
        symmetric = "theory" in est
        columns = 2 + (1 if symmetric and "hard" in methods else 0)
        fig, axes = plt.subplots(len(methods), columns, figsize=(5 * columns, 4 * len(methods)),
                                 squeeze=False)
        for row, method in enumerate(methods):
            g = est[method]
            rho, snr = g["rho"][:], g["snr"][:]
            mse = g["mse"][:].mean(axis=0)
            distance = g["centre_distance"][:].mean(axis=0) / np.sqrt(snr)[None, :]
            label = "EM, variance held at (rho sigma)^2" if method == "em" else \
                "hard assignment (Lloyd; does not depend on rho)"
            heat_map(axes[row][0], rho, snr, mse, f"{label}\nmean squared error of the means",
                     threshold if method == "em" else None)
            heat_map(axes[row][1], rho, snr, distance,
                     f"{label}\ncentre distance / true distance", threshold if method == "em"
                     else None)
        if columns == 3 and "em" in methods:
            # rho < 1: the fixed point is displaced from the truth, its squared error falling
            # like SNR^-1 at low SNR (population fixed points and the fits' mean).
            ax = axes[methods.index("em")][2]
            g = est["em"]
            rho, snr = g["rho"][:], g["snr"][:]
            sigma = sigma_of(f)
            for i in [i for i in range(len(rho)) if rho[i] < 0.999][:4]:
                line, = ax.loglog(snr, g["population"][i] / sigma**2, "-", label=f"rho = {rho[i]:g}")
                ax.loglog(snr, g["mse"][:, i, :].mean(axis=0) / sigma**2, "o", ms=3,
                          color=line.get_color())
            ax.loglog(snr, 0.5 * g["population"][0, 0] / sigma**2 * snr[0] / snr, "k:",
                      label=r"$\propto$ SNR$^{-1}$")
            ax.set_xlabel("SNR")
            ax.set_ylabel(r"squared error of the means / $\sigma^2$")
            ax.set_title("rho < 1: population fixed point (lines), fits (dots)", fontsize=9)
            ax.legend(fontsize=7)
        if symmetric and "hard" in methods:
            ax = axes[methods.index("hard")][2]
            sigma = sigma_of(f)
            mu = np.sqrt(est["theory/snr"][:])  # |mu| / sigma
            along = est["hard/along"][:, 0, :] / sigma  # hard assignment repeats along rho
            median = np.median(along, axis=0)
            low, high = np.quantile(along, [0.1, 0.9], axis=0)
            ax.errorbar(mu, median, yerr=[median - low, high - median], fmt="o", ms=4,
                        label="hard assignment: median, 10-90% of replicates")
            fine = np.linspace(0, mu.max() * 1.05, 200)
            closed = [m * erf(m / sqrt(2)) + sqrt(2 / pi) * exp(-m * m / 2) for m in fine]
            ax.plot(fine, closed, "k-", label="closed form")
            ax.plot(fine, fine, "k:", lw=0.8, label=r"truth $|\mu|$")
            ax.set_xlabel(r"$|\mu| / \sigma$")
            ax.set_ylabel(r"estimate along the true direction / $\sigma$")
            ax.legend(fontsize=7)
            ax.set_title("hard assignment vs its population fixed point", fontsize=9)
        fig.tight_layout()
        out = args.output or args.file.rsplit(".", 1)[0] + ".png"
        fig.savefig(out, dpi=110)
        print("wrote", out)


if __name__ == "__main__":
    main()
