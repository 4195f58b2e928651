#!/usr/bin/env bash
# Runs a sweep on this machine: each point (a line of --set options) of
# jobs/configs/NAME.txt with jobs/configs/NAME.toml, written to OUTDIR/PREFIX-<point>.h5.
# The local twin of jobs/slurm/sweep.sbatch; used by jobs/sgd-dsweep.sh and
# jobs/poc-lambda-table.sh, which then plot the outputs.
# Usage: jobs/run-points.sh NAME PREFIX OUTDIR NP [moesim run options ...]
#   (MOESIM=path/to/moesim, default build/moesim; the options go to every point, after the
#   point's own).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
name=$1 prefix=$2 outdir=$3 np=$4
shift 4
moesim=${MOESIM:-$here/../build/moesim}
mkdir -p "$outdir"
point=0
while read -r line; do
    case "$line" in '' | '#'*) continue ;; esac
    read -r -a point_args <<<"$line"
    echo "point $point: $line $*"
    # mpirun forwards stdin to rank 0: without </dev/null it would eat the remaining points.
    "$here/../scripts/mpirun" -n "$np" "$moesim" run "$here/configs/$name.toml" --force \
        --out "$outdir/$prefix-$point.h5" "${point_args[@]}" "$@" </dev/null
    point=$((point + 1))
done <"$here/configs/$name.txt"
