"""Freed memory goes back to the system between NST jobs (models/memory.py), where the C library allows it."""
import pytest

from models.memory import release_freed_memory, resident_mib


def test_memory_freed_under_a_live_allocation_goes_back_to_the_system():
    """What glibc does not do by itself: 192 MiB of small blocks freed below one block still in use stays
    resident (the heap can only shrink from its top) until it is released."""
    blocks = [bytearray(b"x" * 64 * 1024) for _ in range(3072)]   # 64 KiB: below the mmap threshold, on the heap
    pinned = bytearray(b"y" * 64 * 1024)                           # allocated last: the top of the heap stays in use
    del blocks
    before = resident_mib()
    if not release_freed_memory():
        pytest.skip("this C library has no malloc_trim")
    assert before - resident_mib() > 100
    assert pinned[0] == ord("y")
