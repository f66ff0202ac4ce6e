"""Giving freed memory back to the system. glibc keeps what a process frees in its heap arenas for reuse: after a
large job (an NST run batched with another, a full-size painting's tiles) a replica's resident memory stays at
that job's high-water mark although the memory is free, which is what an OOM killer or a Kubernetes limit sees.
`malloc_trim(0)` returns the free pages of every arena (glibc 2.8+); elsewhere it is a no-op."""
from __future__ import annotations

import ctypes
import ctypes.util
import functools


@functools.cache
def _libc():
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def give_back_freed_memory() -> bool:
    """True when the C library returned some memory to the system."""
    libc = _libc()
    return bool(libc.malloc_trim(0)) if libc is not None else False
