"""The clock every rule asks for "now".

Case time can run faster than real time (`HOTLINE_TIME_SCALE=3600` makes one real second an hour), so
a 48-hour deadline can be watched in a demo and tested without sleeping. All processes share the same
epoch, so they agree on the virtual time.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current case time, timezone-aware, in UTC."""
        ...


class ScaledClock:
    """Real time, sped up `scale` times from `epoch` (a Unix timestamp)."""

    def __init__(self, *, scale: float = 1.0, epoch: float | None = None) -> None:
        self.scale = scale
        self.epoch = time.time() if epoch is None else epoch

    def now(self) -> datetime:
        real = time.time()
        virtual = self.epoch + (real - self.epoch) * self.scale
        return datetime.fromtimestamp(virtual, tz=UTC)

    def real_seconds(self, case_time: timedelta) -> float:
        """How long a span of case time takes in real seconds."""
        return case_time.total_seconds() / self.scale


class FixedClock:
    """A clock that moves only when told to: for tests."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


def as_utc(moment: datetime) -> datetime:
    """Normalise to UTC; naive input is taken as Beijing time (what operators type)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    return moment.astimezone(UTC)


def beijing(moment: datetime) -> datetime:
    return as_utc(moment).astimezone(SHANGHAI)
