"""Handing the memory a finished job freed back to the system."""
from __future__ import annotations

import ctypes


def _malloc_trim():
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):   # not glibc (musl, macOS): nothing to do
        return None


_TRIM = _malloc_trim()


def resident_mib() -> float:
    """This process's resident memory in MiB (Linux)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def release_freed_memory() -> bool:
    """Return the free pages of every malloc arena to the system; False where the C library cannot.

    glibc keeps what a finished NST job freed (fragmented heaps, per-thread arenas) and reuses it only for
    allocations that happen to fit, so an optimizer replica's resident size creeps up job after job
    (bench/README.md, "Soak"). Called between jobs it costs nothing measurable (bench/nst_memory.py)."""
    if _TRIM is None:
        return False
    _TRIM(0)
    return True
