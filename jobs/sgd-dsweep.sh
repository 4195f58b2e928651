#!/usr/bin/env bash
# The sgd d sweep: one run of jobs/configs/sgd-dsweep.toml per d, written to
# OUTDIR/sgd-d<d>.h5, then the overlap and steps-to-recovery plots.
# Usage: jobs/sgd-dsweep.sh [OUTDIR] [NP]   (MOESIM=path/to/moesim, default build/moesim;
# under Slurm, sbatch it with --ntasks=NP and set MPIRUN=srun).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
outdir=${1:-sgd-dsweep}
np=${2:-2}
moesim=${MOESIM:-$here/../build/moesim}
mpirun=${MPIRUN:-$here/../scripts/mpirun -n $np}
mkdir -p "$outdir"
for d in 32 64 128 256; do
    # Spherical online SGD: step size ~ 1/d keeps the noise floor of the overlap fixed, so
    # the steps needed grow like d^2 log d (MoE) and faster (vanilla); run (d/64)^2 x 3000.
    lr=$(python3 -c "print(0.2 * 64 / $d)")
    steps=$((3000 * d * d / 4096))
    steps=$((steps < 3000 ? 3000 : steps))
    echo "d = $d: $steps steps, learning rate $lr"
    $mpirun "$moesim" run "$here/configs/sgd-dsweep.toml" --force --out "$outdir/sgd-d$d.h5" \
        --set sgd.dim=$d --set sgd.lr_experts=$lr --set sgd.lr_vanilla=$lr \
        --set run.steps=$steps --set run.frame_every=$((steps / 60))
done
/usr/bin/python3 "$here/../python/plot_sgd.py" "$outdir"/sgd-d*.h5 -o "$outdir/sgd"
