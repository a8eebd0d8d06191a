"""The open cases of each township that a new contact is compared with, kept between calls.

The repeat check compares a contact told about a township with that township's newest open cases
(up to 500). Reading them from the database on every call was a third of intake's CPU per call at
100 calls/s; they change slowly: a case this intake stores is added here at once, and the list is
read again from the database when it is older than `fresh_s` (cases stored by another intake
replica, cases closed or reopened meanwhile). A case that closed meanwhile is still here until then,
so a match is checked against the database before it counts (see cases.find_repeat).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Candidate:
    case_id: uuid.UUID
    content: str
    received_at: datetime


@dataclass
class _Township:
    read_at: float
    newest_first: list[Candidate] = field(default_factory=list)


class TownshipCandidates:
    """Per (channel, township): its newest open cases, newest first, at most `limit`."""

    def __init__(self, *, limit: int, fresh_s: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.fresh_s = fresh_s
        self._clock = clock
        self._townships: dict[tuple[str, str], _Township] = {}

    def fresh(self, channel: str, township: str) -> list[Candidate] | None:
        """The township's candidates, or None when they must be read from the database again."""
        kept = self._townships.get((channel, township))
        if kept is None or self._clock() - kept.read_at > self.fresh_s:
            return None
        return kept.newest_first

    def read(self, channel: str, township: str, newest_first: Iterable[Candidate]) -> list[Candidate]:
        """Keep what the database just said (newest first) and return it."""
        kept = _Township(read_at=self._clock(), newest_first=list(newest_first)[: self.limit])
        self._townships[(channel, township)] = kept
        return kept.newest_first

    def stored(self, channel: str, township: str, case: Candidate) -> None:
        """A case this intake just committed: a candidate from now on (if the township is kept)."""
        kept = self._townships.get((channel, township))
        if kept is None:
            return
        at = 0
        while at < len(kept.newest_first) and kept.newest_first[at].received_at > case.received_at:
            at += 1
        kept.newest_first.insert(at, case)
        del kept.newest_first[self.limit :]

    def gone(self, channel: str, township: str, case_id: uuid.UUID) -> None:
        """A candidate found closed (or deleted) when checked: not compared again."""
        kept = self._townships.get((channel, township))
        if kept is not None:
            kept.newest_first = [c for c in kept.newest_first if c.case_id != case_id]

    def forget(self) -> None:
        self._townships.clear()
