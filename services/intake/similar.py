"""Similar earlier cases by character-bigram overlap: good enough for a county's recent cases, and
needs no model (so an operator sees it while the caller is still on the line)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")
_NOT_TEXT = re.compile(r"[\s\W_]+")


def bigrams(text: str) -> set[str]:
    cleaned = _NOT_TEXT.sub("", text)
    return {cleaned[i : i + 2] for i in range(len(cleaned) - 1)}


def most_similar(
    query: str, candidates: Sequence[tuple[T, str]], *, limit: int, floor: float = 0.12
) -> list[tuple[T, float]]:
    """The `limit` candidates whose text shares the most bigrams with the query (Dice coefficient)."""
    wanted = bigrams(query)
    if not wanted:
        return []
    scored = []
    for item, text in candidates:
        grams = bigrams(text)
        if grams:
            score = 2 * len(wanted & grams) / (len(wanted) + len(grams))
            if score >= floor:
                scored.append((item, score))
    scored.sort(key=lambda pair: pair[1], reverse=True)
    return scored[:limit]
