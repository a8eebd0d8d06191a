"""Heap trimming: on glibc a burst's freed memory goes back to the operating system; what start-up
built is kept out of the cyclic collector's full passes."""

from __future__ import annotations

import asyncio
import gc
import platform
from pathlib import Path

import pytest

from hotline.shared.memory import settle_heap, trim_heap, trim_heap_periodically

glibc_only = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@glibc_only
def test_trim_returns_a_freed_burst_to_the_os() -> None:
    # Large holes between small survivors (both from malloc, not pymalloc): free() cannot shrink the
    # heap past a survivor, so the holes' pages stay resident until trimmed.
    holes, survivors = [], []
    for _ in range(2_000):
        holes.append(bytearray(32 * 1024))
        survivors.append(bytearray(600))
    del holes
    before = _rss_kib()
    assert trim_heap()
    assert _rss_kib() < before - 16 * 1024  # most of the 64 MB of holes


@glibc_only
async def test_periodic_trim_runs_until_cancelled() -> None:
    task = asyncio.create_task(trim_heap_periodically(interval_s=0.001))
    await asyncio.sleep(0.01)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_a_settled_heap_is_not_walked_again_by_a_full_collection() -> None:
    start_up = [{"word": str(n), "next": [n]} for n in range(200_000)]  # like a loaded dictionary
    try:
        settle_heap()
        assert gc.get_freeze_count() >= 2 * len(start_up)  # each dict and its list, frozen
    finally:
        gc.unfreeze()
