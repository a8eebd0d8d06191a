"""The open cases of each township that a new contact is compared with, kept between calls.

The repeat check compares a contact told about a township with that township's newest open cases
(up to 500). Reading them from the database on every call was a third of intake's CPU per call at
100 calls/s; they change slowly: a case this intake stores is added here at once, and the list is
read again from the database when it is older than `fresh_s` (cases stored by another intake
replica, cases closed or reopened meanwhile). A case that closed meanwhile is still here until then,
so a match is checked against the database before it counts (see cases.find_repeat). Each
township's texts are indexed by their bigrams (`bigram_index.BigramIndex`), kept in step with the list, so
a comparison costs what the new text shares with them, not what they hold.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from hotline.services.intake.bigram_index import BigramIndex


@dataclass(frozen=True, slots=True)
class Candidate:
    case_id: uuid.UUID
    content: str
    received_at: datetime


@dataclass
class _Township:
    read_at: float
    newest_first: list[Candidate] = field(default_factory=list)
    index: BigramIndex[uuid.UUID] = field(default_factory=BigramIndex)
    by_id: dict[uuid.UUID, Candidate] = field(default_factory=dict)

    def keep(self, newest_first: list[Candidate]) -> None:
        """Hold these candidates (and only these) in the list and the index."""
        self.newest_first = newest_first
        self.by_id = {candidate.case_id: candidate for candidate in newest_first}
        for gone in [case_id for case_id in self.index.indexed_keys() if case_id not in self.by_id]:
            self.index.discard(gone)
        for candidate in newest_first:
            self.index.add(candidate.case_id, candidate.content)

    def add(self, case: Candidate, limit: int) -> None:
        """A new candidate in its place by time; the oldest beyond `limit` leave."""
        self.drop(case.case_id)
        at = 0
        while at < len(self.newest_first) and self.newest_first[at].received_at > case.received_at:
            at += 1
        self.newest_first.insert(at, case)
        self.by_id[case.case_id] = case
        self.index.add(case.case_id, case.content)
        for dropped in self.newest_first[limit:]:
            self.drop(dropped.case_id)

    def drop(self, case_id: uuid.UUID) -> None:
        if self.by_id.pop(case_id, None) is not None:
            self.newest_first = [c for c in self.newest_first if c.case_id != case_id]
            self.index.discard(case_id)


TEXT_CANDIDATES = 500  # newest open cases of a township compared word for word


class TownshipCandidates:
    """Per (channel, township): its newest open cases, newest first, at most `limit`."""

    def __init__(
        self, *, limit: int = TEXT_CANDIDATES, fresh_s: float = 10.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
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
        # A township read again keeps its index: only the cases that came or went change it.
        kept = self._townships.setdefault((channel, township), _Township(read_at=0.0))
        kept.read_at = self._clock()
        kept.keep(list(newest_first)[: self.limit])
        return kept.newest_first

    def stored(self, channel: str, township: str, case: Candidate) -> None:
        """A case this intake just committed: a candidate from now on (if the township is kept)."""
        kept = self._townships.get((channel, township))
        if kept is None:
            return
        kept.add(case, self.limit)

    def gone(self, channel: str, township: str, case_id: uuid.UUID) -> None:
        """A candidate found closed (or deleted) when checked: not compared again."""
        kept = self._townships.get((channel, township))
        if kept is not None:
            kept.drop(case_id)

    def most_similar(
        self, channel: str, township: str, text: str, *, since: datetime, limit: int, floor: float
    ) -> list[tuple[uuid.UUID, float]]:
        """The kept candidates received since `since` whose text is most like `text` (bigram Dice of
        at least `floor`), best first and, at equal scores, newest first."""
        kept = self._townships.get((channel, township))
        if kept is None:
            return []
        ranked = [
            (kept.by_id[case_id], score)
            for case_id, score in kept.index.scores(text, floor=floor)
            if kept.by_id[case_id].received_at >= since
        ]
        ranked.sort(key=lambda pair: (-pair[1], -pair[0].received_at.timestamp()))
        return [(candidate.case_id, score) for candidate, score in ranked[:limit]]

    def forget(self) -> None:
        self._townships.clear()
