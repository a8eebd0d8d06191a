"""Heap trimming: on glibc a burst's freed memory goes back to the operating system; what start-up
built is kept out of the cyclic collector's full passes."""

from __future__ import annotations

import asyncio
import gc
import json
import platform
import subprocess
import sys

import pytest

from hotline.shared.memory import settle_heap, trim_heap_periodically

glibc_only = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")


_BURST = """
import json
from pathlib import Path
from hotline.shared.memory import trim_heap

def rss_kib():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

# Large holes between small survivors (both from malloc, not pymalloc): free() cannot shrink the
# heap past a survivor, so the holes' pages stay resident until trimmed.
holes, survivors = [], []
for _ in range(2_000):
    holes.append(bytearray(32 * 1024))
    survivors.append(bytearray(600))
del holes
before = rss_kib()
trimmed = trim_heap()
print(json.dumps({"trimmed": trimmed, "before": before, "after": rss_kib()}))
"""


@glibc_only
def test_trim_returns_a_freed_burst_to_the_os() -> None:
    # In a fresh interpreter: in a long test run the heap already holds free space of earlier tests,
    # where the burst's blocks may land, so what a trim returns says nothing about the burst.
    done = subprocess.run([sys.executable, "-c", _BURST], capture_output=True, text=True, check=True, timeout=120)
    seen = json.loads(done.stdout)
    assert seen["trimmed"]
    assert seen["after"] < seen["before"] - 16 * 1024  # most of the 64 MB of holes


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
