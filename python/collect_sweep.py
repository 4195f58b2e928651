#!/usr/bin/python3
"""Merge the per-point outputs of a sweep into one summary HDF5 file.

Usage: /usr/bin/python3 python/collect_sweep.py SUMMARY.h5 POINT.h5 [POINT.h5 ...]

SUMMARY.h5 gets, for P points in the order given:
  /points/<i>/              attrs of point i's output (experiment, seed, nranks, status, ...),
                            attribute `file` and dataset `config` (its resolved TOML)
  /summary/file[P]          the point files
  /summary/status[P]        their status (complete, stopped, failed, running)
  /summary/<observable>[P]  the last value of every scalar /observables series
  /summary/<observable>_step[P]  the step of that last value
Refuses to overwrite SUMMARY.h5, and exits 2 if a point file is missing or not a moesim output.
"""
import os
import sys

import h5py
import numpy as np


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def main(argv):
    if len(argv) < 2 or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    summary_path, points = argv[0], argv[1:]
    if os.path.exists(summary_path):
        print(f"collect_sweep: '{summary_path}' exists; remove it first", file=sys.stderr)
        return 2
    observables, statuses = {}, []
    with h5py.File(summary_path, "w-") as out:
        for i, path in enumerate(points):
            try:
                src = h5py.File(path, "r")
            except OSError as error:
                print(f"collect_sweep: cannot read point {i} '{path}': {error}", file=sys.stderr)
                out.close()
                os.remove(summary_path)
                return 2
            with src:
                if "status" not in src.attrs or "config" not in src:
                    print(f"collect_sweep: '{path}' is not a moesim output", file=sys.stderr)
                    out.close()
                    os.remove(summary_path)
                    return 2
                group = out.create_group(f"points/{i}")
                for name, value in src.attrs.items():
                    group.attrs[name] = value
                group.attrs["file"] = path
                group["config"] = src["config"][()]
                statuses.append(text(src.attrs["status"]).rstrip("\0"))
                for name, series in src.get("observables", {}).items():
                    values = series["value"]
                    if values.ndim != 1 or values.shape[0] == 0:
                        continue
                    column = observables.setdefault(name, (np.full(len(points), np.nan),
                                                           np.full(len(points), -1, dtype=np.int64)))
                    column[0][i] = values[-1]
                    column[1][i] = series["step"][-1]
        string = h5py.string_dtype()
        out["summary/file"] = np.array(points, dtype=object).astype(string)
        out["summary/status"] = np.array(statuses, dtype=object).astype(string)
        for name, (values, steps) in sorted(observables.items()):
            out[f"summary/{name}"] = values
            out[f"summary/{name}_step"] = steps
        out.attrs["points"] = len(points)
    incomplete = [p for p, s in zip(points, statuses) if s != "complete"]
    print(f"collect_sweep: {len(points)} points -> {summary_path}"
          + (f"; not complete: {', '.join(incomplete)}" if incomplete else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
