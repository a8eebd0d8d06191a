"""Freed heap back to the operating system, so a long-running service's RSS follows its live memory.

CPython frees objects into glibc's heap, which keeps the pages: after one burst (a backlog pulled in
batches of 100, a large report) a process's RSS stays at the burst's high-water mark for good, and a
soak cannot tell that from a leak. `malloc_trim(0)` returns the free pages; once a minute costs well
under a millisecond. Where the C library is not glibc (musl, macOS) there is nothing to call and the
task does nothing.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)
TRIM_INTERVAL_S = 60.0


def _glibc_malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    trim = getattr(libc, "malloc_trim", None)
    if trim is None:
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim  # type: ignore[no-any-return]


_MALLOC_TRIM = _glibc_malloc_trim()


def trim_heap() -> bool:
    """Give the C heap's free pages back; True when the C library could (glibc) and did."""
    return bool(_MALLOC_TRIM is not None and _MALLOC_TRIM(0))


async def trim_heap_periodically(interval_s: float = TRIM_INTERVAL_S) -> None:
    """Run until cancelled: trim the heap every `interval_s` seconds."""
    if _MALLOC_TRIM is None:
        log.info("malloc_trim unavailable (not glibc): RSS may keep high-water marks")
        return
    while True:
        await asyncio.sleep(interval_s)
        trim_heap()


def settle_heap() -> None:
    """Move what start-up built (jieba's dictionary, the models, the app) out of the cyclic
    collector's sight. Those objects live as long as the process; left in the oldest generation,
    every full collection walks them again: 80–100 ms for intake's heap, 54 ms for the classifier's,
    paid by whichever call or case is in flight when it comes (refcounting still frees them when they
    are dropped). No collection first: it would run whatever finalizers start-up's garbage has, on the
    event loop's thread, at a moment nobody chose; the little garbage frozen with the rest stays."""
    gc.freeze()
