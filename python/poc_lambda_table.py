#!/usr/bin/python3
"""Tabulates the paper's lambda table (arXiv 2502.05784, MODELS.md 3.1) from poc runs that
differ in poc.entropy (lambda) and run.seed (jobs/poc-lambda-table.sh): the test loss (MSE for
the multi-index data) of the merge of all M_max systems of each N at the last frame, as mean
+- sd over the seeds of each lambda, beside the mean test loss of the single systems. Writes
OUT.md (the table) and OUT.png (merged test loss against lambda, one line per N).

Usage: /usr/bin/python3 python/poc_lambda_table.py RUN.h5 [RUN.h5 ...] [-o lambda-table]
"""

import argparse
import collections
import tomllib

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def read_run(path):
    with h5py.File(path, "r") as f:
        config = tomllib.loads(f["config"][()].decode())
        n = f["estimates/ensemble/N"][()].astype(int)
        merged = f["estimates/ensemble/test_loss"][()]  # [R][M][N]
        kind = f["estimates/systems/kind"][()]
        group_n = f["estimates/systems/N"][()]
        last = f["observables/test_loss/value"][-1]  # [systems] at the last frame
        single = np.array([np.mean(last[(kind == 0) & (group_n == v)]) for v in n])
        single_sd = np.array([np.std(last[(kind == 0) & (group_n == v)], ddof=1) for v in n])
        return {
            "lambda": config["poc"]["entropy"],
            "seed": config["run"].get("seed", 0),
            "epochs": config["run"]["steps"],
            "m_max": merged.shape[1],
            "n": n,
            "merged": merged[:, -1, :].mean(axis=0),  # M = M_max: the whole pool
            "single": single,
            "single_sd": single_sd,
        }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("-o", "--output", default="lambda-table")
    args = parser.parse_args()

    runs = [read_run(p) for p in args.files]
    n = runs[0]["n"]
    for r in runs:
        if not np.array_equal(r["n"], n) or r["epochs"] != runs[0]["epochs"]:
            raise SystemExit("poc_lambda_table.py: the runs differ in poc.particles or run.steps")
    by_lambda = collections.defaultdict(list)
    for r in runs:
        by_lambda[r["lambda"]].append(r)
    lambdas = sorted(by_lambda)
    mean = np.array([np.mean([r["merged"] for r in by_lambda[l]], axis=0) for l in lambdas])
    sd = np.array([np.std([r["merged"] for r in by_lambda[l]], axis=0, ddof=1)
                   if len(by_lambda[l]) > 1 else np.full(len(n), np.nan) for l in lambdas])
    single = np.array([np.mean([r["single"] for r in by_lambda[l]], axis=0) for l in lambdas])
    single_sd = np.array([np.mean([r["single_sd"] for r in by_lambda[l]], axis=0)
                          for l in lambdas])

    m_max, epochs = runs[0]["m_max"], runs[0]["epochs"]
    lines = [f"Test loss of the merge of {m_max} networks after {epochs} epochs: mean +- sd over "
             f"seeds ({', '.join(str(len(by_lambda[l])) for l in lambdas)} per lambda); in "
             "brackets the mean test loss of one network (and the sd over the "
             f"{m_max} networks, averaged over seeds).", "",
             "| lambda | " + " | ".join(f"N = {v}" for v in n) + " |",
             "|---|" + "---|" * len(n)]
    for j, l in enumerate(lambdas):
        spread = [f" +- {sd[j, i]:.5f}" if np.isfinite(sd[j, i]) else "" for i in range(len(n))]
        cells = [f"{mean[j, i]:.5f}{spread[i]} [{single[j, i]:.4f} +- {single_sd[j, i]:.4f}]"
                 for i in range(len(n))]
        lines.append(f"| {l:g} | " + " | ".join(cells) + " |")
    table = "\n".join(lines) + "\n"
    print(table, end="")
    with open(args.output + ".md", "w") as out:
        out.write(table)

    fig, ax = plt.subplots(figsize=(6, 4))
    for i, v in enumerate(n):
        yerr = sd[:, i] if np.isfinite(sd[:, i]).all() else None
        ax.errorbar(lambdas, mean[:, i], yerr=yerr, marker="o", capsize=3, label=f"N = {v}")
    ax.set_xscale("log")
    ax.set_xlabel("lambda (entropy weight)")
    ax.set_ylabel(f"test loss of a {m_max}-network merge")
    ax.set_title(f"after {epochs} epochs (mean +- sd over seeds)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.output + ".png", dpi=120)


if __name__ == "__main__":
    main()
