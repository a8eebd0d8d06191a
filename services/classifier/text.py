"""Text normalisation shared by training and prediction.

Most training rows exist only in a pre-segmented form (jieba tokens, stop words and punctuation
removed, tokens separated by spaces), while live input is raw text. Both are normalised to the same
form: a list of tokens without punctuation, whitespace or stop words.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

STOPWORDS_PATH = Path(__file__).with_name("stopwords.txt")

# Export artefacts of the source spreadsheet ("_x000D_") and runs of whitespace.
_JUNK_RE = re.compile(r"_x000D_|\s+")
_PUNCT_RE = re.compile(r"[\W_]+")
_jieba_lock = threading.Lock()
_cut: Callable[[str], list[str]] | None = None


def parse_stopwords(text: str) -> frozenset[str]:
    """Parse a stop-word list: one word per line, ``#`` starts a comment line."""
    words = (line.strip() for line in text.splitlines())
    return frozenset(w for w in words if w and not w.startswith("#"))


@lru_cache(maxsize=4)
def load_stopwords(path: Path = STOPWORDS_PATH) -> frozenset[str]:
    """Load the stop-word list shipped with the classifier (cached)."""
    return parse_stopwords(path.read_text(encoding="utf-8"))


def is_punct(token: str) -> bool:
    """True when ``token`` has no letter or digit (punctuation, symbols, whitespace only)."""
    return _PUNCT_RE.fullmatch(token) is not None


def _keep(token: str, stopwords: frozenset[str]) -> bool:
    return bool(token) and token not in stopwords and _PUNCT_RE.fullmatch(token) is None


_CACHE_MAX = 500_000


@lru_cache(maxsize=4)
def _keep_table(stopwords: frozenset[str]) -> dict[str, bool]:
    """Memo of :func:`_keep` per stop-word set (tokens repeat a lot; bounded size)."""
    return {}


def filter_tokens(tokens: Iterable[str], stopwords: frozenset[str]) -> list[str]:
    """Drop empty, punctuation-only and stop-word tokens."""
    table = _keep_table(stopwords)
    get = table.get
    out: list[str] = []
    for t in tokens:
        keep = get(t)
        if keep is None:
            keep = _keep(t, stopwords)
            if len(table) < _CACHE_MAX:
                table[t] = keep
        if keep:
            out.append(t)
    return out


def jieba_cut() -> Callable[[str], list[str]]:
    """jieba's segmentation, loaded on first use (thread-safe): through jieba-rs (``rjieba``, the same
    dictionary and HMM in Rust, about ten times faster) where it is installed, else ``jieba.lcut``."""
    global _cut
    if _cut is None:
        with _jieba_lock:
            if _cut is None:
                _cut = _rjieba_cut() or python_jieba_cut()
    return _cut


def python_jieba_cut() -> Callable[[str], list[str]]:
    """``jieba.lcut`` itself, initialised (the reference the classifier's speed is measured against)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    lcut: Callable[[str], list[str]] = jieba.lcut
    return lcut


# jieba-rs keeps a run like "2017.04.24", "0000-12345678" or "baidu.com" whole where jieba splits it at
# the punctuation ("2017.04", ".", "24"); such a token is cut again by jieba, so that the tokens are
# jieba's: on 30,627 public messages and posts the two differ in 2 texts (HMM ties in runs of one
# repeated rare character, "電電電").
_JOINED_BY_PUNCTUATION = re.compile(r"[+#&._%\-]")


def _rjieba_cut() -> Callable[[str], list[str]] | None:
    try:
        import rjieba
    except ImportError:
        return None
    recut = python_jieba_cut()
    rjieba.cut("初始化")  # loads its dictionary now, not in the first case's time

    def cut(text: str) -> list[str]:
        tokens: list[str] = []
        for token in rjieba.cut(text, True):
            if len(token) > 1 and _JOINED_BY_PUNCTUATION.search(token):
                tokens.extend(recut(token))
            else:
                tokens.append(token)
        return tokens

    return cut


def tokens_from_raw(text: str, stopwords: frozenset[str] | None = None) -> list[str]:
    """Segment raw text with jieba and drop punctuation, whitespace and stop words."""
    sw = load_stopwords() if stopwords is None else stopwords
    cleaned = _JUNK_RE.sub(" ", text).strip()
    if not cleaned:
        return []
    return filter_tokens(jieba_cut()(cleaned), sw)


def tokens_from_segmented(text_seg: str, stopwords: frozenset[str] | None = None) -> list[str]:
    """Normalise an already segmented text (space-separated tokens)."""
    sw = load_stopwords() if stopwords is None else stopwords
    return filter_tokens(_JUNK_RE.sub(" ", text_seg).split(), sw)


def normalise_many(texts: Iterable[str], stopwords: frozenset[str] | None = None) -> list[list[str]]:
    """Normalise a batch of raw texts."""
    sw = load_stopwords() if stopwords is None else stopwords
    return [tokens_from_raw(t, sw) for t in texts]
