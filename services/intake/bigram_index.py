"""Texts by key, found by the character bigrams they share with a query (the repeat check's index).

Why: the repeat check compares each contact with up to 500 open cases of its township. Scanning them
all (a set intersection each) cost 1.7 ms a call for 500 complaints of 170 characters; counting
shared bigrams through an index of the township's texts costs 0.14 ms. Scores are the same
Dice coefficients as `similar.most_similar`'s.

How: the bulk of the index is two numpy arrays, every (bigram, text) pair sorted by bigram, so a
query is a binary search per bigram and one count per text: 12 bytes a pair. (A dict of Python lists,
the obvious index, held 5.9 MB for 500 such complaints, nearly all of it per distinct bigram; the
township's list with this index holds 1.8 MB.) Texts added since the arrays were built are compared
one by one, and texts removed since are skipped, until enough have changed to build them again.
"""

from __future__ import annotations

from array import array
from collections.abc import Hashable
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

from hotline.services.intake.similar import bigram_codes

K = TypeVar("K", bound=Hashable)
REBUILD_AFTER = 32  # texts added or removed since the arrays were built, before they are built again


class BigramIndex(Generic[K]):
    def __init__(self) -> None:
        # Every text held: its key, the text and its bigram codes.
        self._held: dict[K, tuple[str, array[int]]] = {}
        # The arrays: the keys they were built from, each pair's bigram and text (by position in
        # `_built`), each text's number of bigrams.
        self._built: list[K] = []
        self._codes: npt.NDArray[np.uint64] = np.zeros(0, np.uint64)
        self._owners: npt.NDArray[np.int64] = np.zeros(0, np.int64)
        self._sizes: npt.NDArray[np.int64] = np.zeros(0, np.int64)
        self._position: dict[K, int] = {}
        self._added: dict[K, array[int]] = {}  # held, not in the arrays
        self._removed: set[int] = set()  # positions in `_built` no longer held (or held anew)

    def __len__(self) -> int:
        return len(self._held)

    def __contains__(self, key: object) -> bool:
        return key in self._held

    def indexed_keys(self) -> list[K]:
        return list(self._held)

    def add(self, key: K, text: str) -> None:
        """Index `text` under `key` (a changed text replaces the one indexed)."""
        held = self._held.get(key)
        if held is not None:
            if held[0] == text:
                return
            self.discard(key)
        codes = array("Q", bigram_codes(text))
        self._held[key] = (text, codes)
        self._added[key] = codes

    def discard(self, key: K) -> None:
        if self._held.pop(key, None) is None:
            return
        if self._added.pop(key, None) is None:  # in the arrays: skipped from now on
            self._removed.add(self._position[key])

    def scores(self, query: str, *, floor: float) -> list[tuple[K, float]]:
        """Every indexed key whose text's Dice with `query` is at least `floor` (in no set order)."""
        wanted = bigram_codes(query)
        if not wanted:
            return []
        if len(self._added) + len(self._removed) > REBUILD_AFTER:
            self._build()
        size = len(wanted)
        scored = []
        for position, common in self._shared_in_arrays(wanted):
            if position not in self._removed:
                score = 2 * common / (size + int(self._sizes[position]))
                if score >= floor:
                    scored.append((self._built[position], score))
        for key, codes in self._added.items():
            common = len(wanted.intersection(codes))
            if common and (score := 2 * common / (size + len(codes))) >= floor:
                scored.append((key, score))
        return scored

    def _shared_in_arrays(self, wanted: set[int]) -> list[tuple[int, int]]:
        """(position, bigrams shared with `wanted`) of each text in the arrays sharing any."""
        if not self._built:
            return []
        query = np.fromiter(wanted, dtype=np.uint64, count=len(wanted))
        first = np.searchsorted(self._codes, query, side="left")
        lengths = np.searchsorted(self._codes, query, side="right") - first
        total = int(lengths.sum())
        if total == 0:
            return []
        # The pairs of every wanted bigram, run by run: each run's start, then +1 along the run.
        starts = np.repeat(first - (np.cumsum(lengths) - lengths), lengths)
        counts = np.bincount(self._owners[starts + np.arange(total)], minlength=len(self._built))
        found = np.flatnonzero(counts)
        return list(zip(found.tolist(), counts[found].tolist(), strict=True))

    def _build(self) -> None:
        keys = list(self._held)
        sizes = np.fromiter((len(self._held[k][1]) for k in keys), dtype=np.int64, count=len(keys))
        codes = np.frombuffer(b"".join(self._held[k][1].tobytes() for k in keys), dtype=np.uint64)
        owners = np.repeat(np.arange(len(keys), dtype=np.int64), sizes)
        order = np.argsort(codes, kind="stable")
        self._built, self._sizes = keys, sizes
        self._codes, self._owners = codes[order], owners[order]
        self._position = {key: position for position, key in enumerate(keys)}
        self._added, self._removed = {}, set()
