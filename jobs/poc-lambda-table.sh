#!/usr/bin/env bash
# The paper's lambda table on this machine: each point of jobs/configs/poc-lambda-table.txt
# with jobs/configs/poc-lambda-table.toml, written to OUTDIR/lambda-<point>.h5, then the table
# (OUTDIR/lambda-table.md) and its plot (OUTDIR/lambda-table.png). On a cluster use
# jobs/slurm/sweep.sbatch with the same files.
# Usage: jobs/poc-lambda-table.sh [OUTDIR] [NP] [--set KEY=VALUE ...]
#   (MOESIM=path/to/moesim, default build/moesim; the --set options go to every point, after
#   the point's own, e.g. --set run.steps=50 for the table after 50 epochs).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
outdir=${1:-poc-lambda-table}
np=${2:-2}
shift $(($# < 2 ? $# : 2))
"$here/run-points.sh" poc-lambda-table lambda "$outdir" "$np" --quiet "$@"
mapfile -t outputs < <(ls "$outdir"/lambda-*.h5 | grep -v '\.ckpt\.h5$')
/usr/bin/python3 "$here/../python/poc_lambda_table.py" "${outputs[@]}" -o "$outdir/lambda-table"
