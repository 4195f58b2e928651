#!/usr/bin/python3
"""Prints the OPENBLAS_CORETYPE a numpy peer should run with, or nothing.

OpenBLAS (DYNAMIC_ARCH builds, as Debian's) picks its kernels from CPUID. On some VMs the
CPUID it sees makes it fall back to a generic core (Prescott, Core2, ...) although the CPU
has AVX2 and FMA, and the peer then runs several times below its best. This prints the core
OpenBLAS picks (to stderr) and, only if that core is a generic fallback and /proc/cpuinfo
shows avx2 and fma, the core to force (Zen on AMD, Haswell otherwise) on stdout.
Usage: coretype=$(/usr/bin/python3 bench/peers/openblas_coretype.py)
"""

import ctypes
import os
import sys

import numpy  # noqa: F401  (maps numpy's BLAS into this process)

GENERIC = {"prescott", "core2", "katmai", "coppermine", "northwood", "banias", "atom",
           "nehalem", "penryn", "dunnington", "generic", "opteron", "barcelona", "athlon"}


def corename():
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split()
            path = fields[-1] if len(fields) >= 6 else ""
            if "openblas" in os.path.basename(path):
                lib = ctypes.CDLL(path)
                lib.openblas_get_corename.restype = ctypes.c_char_p
                return lib.openblas_get_corename().decode()
    return None


def cpu_flags():
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split()), line
    return set(), ""


def main():
    core = corename()
    print(f"openblas core: {core}", file=sys.stderr)
    if core is None or core.lower() not in GENERIC:
        return
    flags, _ = cpu_flags()
    if {"avx2", "fma"} <= flags:
        with open("/proc/cpuinfo") as info:
            amd = "AuthenticAMD" in info.read()
        print("Zen" if amd else "Haswell")


if __name__ == "__main__":
    main()
