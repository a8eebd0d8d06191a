"""A small in-process rate limiter for the public endpoints (per client address, sliding minute)."""

from __future__ import annotations

import time
from collections import defaultdict, deque


class RateLimiter:
    def __init__(self, *, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: defaultdict[str, deque[float]] = defaultdict(deque)

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        hits = self._hits[key]
        while hits and now - hits[0] > 60:
            hits.popleft()
        if len(hits) >= self.per_minute:
            return False
        hits.append(now)
        if len(self._hits) > 10_000:  # forget idle clients rather than grow without bound
            for stale in [k for k, v in self._hits.items() if not v or now - v[-1] > 60]:
                del self._hits[stale]
        return True
