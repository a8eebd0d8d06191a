"""Texts by key, found by the character bigrams they share with a query (the repeat check's index).

Why: the repeat check compares each contact with up to 500 open cases of its township. Scanning them
all (a set intersection each) costs about 1 ms a call for 500 complaints of 170 characters;
counting shared bigrams through an index of the township's texts 0.1 ms (`hotline bench --mode
repeat`). Scores are the same Dice coefficients as `similar.most_similar`'s.

How: the bulk of the index is two numpy arrays, every (bigram, text) pair sorted by bigram, so a
query is a binary search per bigram and one count per text: 12 bytes a pair. (A dict of Python lists,
the obvious index, held 5.9 MB for 500 such complaints, nearly all of it per distinct bigram; the
township's list with this index holds 1.7 MB.) Texts added since the arrays were last merged are
compared one by one, and texts removed since are skipped, until enough have changed to merge them in
(only the new pairs are sorted). With a case stored and the oldest dropped on every call, 500 such
complaints cost 0.3 ms a call, query and upkeep.
"""

from __future__ import annotations

from array import array
from collections.abc import Hashable
from typing import Generic, TypeVar, cast

import numpy as np
import numpy.typing as npt

from hotline.services.intake.similar import bigram_codes

K = TypeVar("K", bound=Hashable)
MERGE_AFTER = 32  # texts added or removed since the arrays were last merged, before they are merged again


class BigramIndex(Generic[K]):
    def __init__(self) -> None:
        # Every text held: its key, the text and its bigram codes.
        self._held: dict[K, tuple[str, array[int]]] = {}
        # The arrays: every (bigram, text) pair sorted by bigram, the text given by its position in
        # `_built` (None there once removed); each position's number of bigrams.
        self._built: list[K | None] = []
        self._sizes: list[int] = []
        self._codes: npt.NDArray[np.uint64] = np.zeros(0, np.uint64)
        self._owners: npt.NDArray[np.int64] = np.zeros(0, np.int64)
        self._position: dict[K, int] = {}  # of the keys in the arrays
        self._added: dict[K, array[int]] = {}  # held, not yet in the arrays
        self._removed: set[int] = set()  # positions in the arrays no longer held

    def __len__(self) -> int:
        return len(self._held)

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
        if self._added.pop(key, None) is None:  # in the arrays: skipped until they are merged
            self._removed.add(self._position.pop(key))

    def scores(self, query: str, *, floor: float) -> list[tuple[K, float]]:
        """Every indexed key whose text's Dice with `query` is at least `floor` (in no set order)."""
        wanted = bigram_codes(query)
        if not wanted:
            return []
        if len(self._added) + len(self._removed) > MERGE_AFTER:
            self._merge()
        size, built, sizes, removed = len(wanted), self._built, self._sizes, self._removed
        scored = []
        for position, common in self._shared_in_arrays(wanted):
            if position not in removed and (score := 2 * common / (size + sizes[position])) >= floor:
                scored.append((cast(K, built[position]), score))
        for key, codes in self._added.items():
            common = len(wanted.intersection(codes))
            if common and (score := 2 * common / (size + len(codes))) >= floor:
                scored.append((key, score))
        return scored

    def _shared_in_arrays(self, wanted: set[int]) -> list[tuple[int, int]]:
        """(position, bigrams shared with `wanted`) of each text in the arrays sharing any."""
        if not self._codes.size:
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

    def _merge(self) -> None:
        """Take the removed texts' pairs out of the arrays and merge the added texts' in: linear in the
        pairs held, only the new pairs sorted. Positions of removed texts stay empty until they are
        as many as the texts held, then the arrays are made anew."""
        if self._removed:
            keep = ~np.isin(self._owners, np.fromiter(self._removed, dtype=np.int64, count=len(self._removed)))
            self._codes, self._owners = self._codes[keep], self._owners[keep]
            for position in self._removed:
                self._built[position] = None
        added, self._added, self._removed = self._added, {}, set()
        if len(self._built) + len(added) > 2 * len(self._held) + MERGE_AFTER:
            self._built, self._sizes, self._position = [], [], {}
            self._codes, self._owners = np.zeros(0, np.uint64), np.zeros(0, np.int64)
            added = {key: codes for key, (_, codes) in self._held.items()}
        keys = list(added)
        sizes = [len(added[key]) for key in keys]
        codes = np.frombuffer(b"".join(added[key].tobytes() for key in keys), dtype=np.uint64)
        base = len(self._built)
        owners = np.repeat(np.arange(base, base + len(keys), dtype=np.int64), sizes)
        order = np.argsort(codes, kind="stable")
        codes, owners = codes[order], owners[order]
        at = np.searchsorted(self._codes, codes)
        self._codes, self._owners = np.insert(self._codes, at, codes), np.insert(self._owners, at, owners)
        self._position.update((key, base + n) for n, key in enumerate(keys))
        self._built.extend(keys)
        self._sizes.extend(sizes)
