# A 3-task job array over a sweep file: three outputs, then the collect step merges them.
source "$(dirname "$0")/common.sh"
cd "$(mktemp -d ./sweep.XXXX)"
start=$SECONDS
jid=$(sbatch --parsable --array=0-2 "$jobs_dir/slurm/sweep.sbatch" "$jobs_dir/configs/mfld-sweep.txt" \
    --quiet --set run.steps=100)
for task in 0 1 2; do
    wait_for_job "${jid}_$task" 180
    complete_output "sweep-$jid-$task.h5"
done
py "$MOESIM_SOURCE_DIR/python/collect_sweep.py" summary.h5 sweep-"$jid"-{0,1,2}.h5 >collect.log
py - "$jid" <<'PY'
import sys, h5py
jid = sys.argv[1]
with h5py.File("summary.h5", "r") as f:
    files = [x.decode() for x in f["summary/file"][:]]
    assert files == [f"sweep-{jid}-{t}.h5" for t in range(3)], files
    assert [s.decode() for s in f["summary/status"][:]] == ["complete"] * 3
    assert list(f["summary/objective_step"][:]) == [100, 100, 100]
    # Each point really ran its own line of the sweep file.
    for task, particles in enumerate([64, 256, 1024]):
        config = f[f"points/{task}/config"][()].decode()
        assert f"particles = {particles}" in config, config
        assert f["points/" + str(task)].attrs["experiment"] == b"mfld" or f["points/" + str(task)].attrs["experiment"] == "mfld"
print("summary of 3 points ok")
PY
# The collect step refuses to overwrite its summary.
expect_exit 2 log py "$MOESIM_SOURCE_DIR/python/collect_sweep.py" summary.h5 sweep-"$jid"-0.h5
echo "array job $jid: 3 points collected in $((SECONDS - start)) s"
