#!/usr/bin/env bash
# The sgd d sweep on this machine: each point of jobs/configs/sgd-dsweep.txt with
# jobs/configs/sgd-dsweep.toml, written to OUTDIR/sgd-<point>.h5, then the overlap and
# steps-to-recovery plots. On a cluster use jobs/slurm/sweep.sbatch with the same files.
# Usage: jobs/sgd-dsweep.sh [OUTDIR] [NP] [--set KEY=VALUE ...]
#   (MOESIM=path/to/moesim, default build/moesim; the --set options go to every point, after
#   the point's own, e.g. the relu variant of the README's sgd section).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
outdir=${1:-sgd-dsweep}
np=${2:-2}
shift $(($# < 2 ? $# : 2))
"$here/run-points.sh" sgd-dsweep sgd "$outdir" "$np" "$@"
# The runs' outputs, not their checkpoint files (sgd-<point>.ckpt.h5).
mapfile -t outputs < <(ls "$outdir"/sgd-*.h5 | grep -v '\.ckpt\.h5$')
/usr/bin/python3 "$here/../python/plot_sgd.py" "${outputs[@]}" -o "$outdir/sgd"
