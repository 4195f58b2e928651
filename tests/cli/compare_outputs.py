"""Compares two moesim outputs dataset by dataset, bit for bit: every dataset outside /timing
(wall-clock seconds) must exist in both with the same shape, dtype and bytes, and the
resolved configs must agree apart from run.out. Exit 0 if identical, 1 listing what differs.
Usage: compare_outputs.py A.h5 B.h5"""
import sys

import h5py
import numpy as np


def datasets(path):
    found = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and not name.startswith("timing/") and name != "config":
            found[name] = obj[()]

    with h5py.File(path, "r") as f:
        f.visititems(visit)
        config = [line for line in f["config"][()].decode().splitlines()
                  if not line.startswith("out =")]
    return found, config


def main(a_path, b_path):
    a, a_config = datasets(a_path)
    b, b_config = datasets(b_path)
    problems = []
    for name in sorted(set(a) | set(b)):
        if name not in a or name not in b:
            problems.append(f"{name}: only in {a_path if name in a else b_path}")
            continue
        x, y = np.asarray(a[name]), np.asarray(b[name])
        if x.shape != y.shape or x.dtype != y.dtype or x.tobytes() != y.tobytes():
            problems.append(f"{name}: differs (shapes {x.shape} {y.shape})")
    if a_config != b_config:
        problems.append("/config differs beyond run.out")
    if not any(name.startswith(("particles/", "observables/", "estimates/")) for name in a):
        problems.append(f"{a_path} holds no results at all")
    for problem in problems:
        print(problem)
    print(f"{len(a)} datasets compared: {'identical' if not problems else 'DIFFERENT'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
