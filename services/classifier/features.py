"""Vectorised TF-IDF features over normalised tokens.

Up to three blocks, each L2-normalised and weighted:

* character 1..3-grams inside tokens, with a boundary marker (like scikit-learn's ``char_wb``);
  n-grams are packed into 63-bit integer keys (21 bits per code point) with numpy, so extraction
  for a whole batch costs a few array operations instead of a Python loop per n-gram;
* the same character n-grams of the first ``title_tokens`` tokens only (the title, roughly: most
  training rows have no separate subject field, so the head of the token list stands in for it);
* word unigrams (the jieba tokens themselves); off unless ``word_weight > 0``.

The vocabulary is stored as a sorted key array (characters) and a sorted word list, which keeps
the artefact small and the mapping exact (no hashing collisions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain, repeat

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

_SPACE = 32
_SEP = 0
_BITS = np.uint64(21)

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
F32 = npt.NDArray[np.float32]


def char_ngram_keys(docs: Sequence[Sequence[str]], max_n: int = 3) -> tuple[I64, U64]:
    """Return (row index, n-gram key) pairs for every char n-gram (n = 1..max_n) of every doc.

    Each doc is a token list; tokens are joined as `` t1 t2 ... `` and n-grams never cross a
    token boundary except at their first or last character (the boundary marker).
    """
    if max_n not in (1, 2, 3):
        raise ValueError("max_n must be 1, 2 or 3")
    if not docs:
        return np.zeros(0, np.int64), np.zeros(0, np.uint64)
    parts = [" " + " ".join(d) + " " for d in docs]
    cps = np.frombuffer("\x00".join(parts).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    lens = np.fromiter((len(p) + 1 for p in parts), dtype=np.int64, count=len(parts))
    doc_of = np.repeat(np.arange(len(docs), dtype=np.int64), lens)[: cps.size]
    rows: list[I64] = []
    keys: list[U64] = []
    real = (cps != _SPACE) & (cps != _SEP)
    rows.append(doc_of[real])
    keys.append(cps[real])
    if max_n >= 2:
        a, b = cps[:-1], cps[1:]
        ok = (a != _SEP) & (b != _SEP) & ((a != _SPACE) | (b != _SPACE))
        rows.append(doc_of[:-1][ok])
        keys.append(a[ok] | (b[ok] << _BITS))
    if max_n >= 3:
        a, b, c = cps[:-2], cps[1:-1], cps[2:]
        ok = (a != _SEP) & (c != _SEP) & real[1:-1]
        rows.append(doc_of[:-2][ok])
        keys.append(a[ok] | (b[ok] << _BITS) | (c[ok] << (_BITS * np.uint64(2))))
    return np.concatenate(rows), np.concatenate(keys)


_EMPTY = np.uint64(2**64 - 1)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


class KeyIndex:
    """Open-addressing hash table from uint64 keys to their position in a key array.

    Vectorised lookups are several times faster than ``np.searchsorted`` on large vocabularies.
    """

    __slots__ = ("_bits", "_keys", "_mask", "_vals")

    def __init__(self, keys: U64) -> None:
        n = int(keys.size)
        self._bits = max(8, int(np.ceil(np.log2(max(n, 1) * 4 + 1))))  # load factor <= 0.25
        size = 1 << self._bits
        self._mask = np.uint64(size - 1)
        self._keys = np.full(size, _EMPTY, dtype=np.uint64)
        self._vals = np.full(size, -1, dtype=np.int64)
        pending = np.arange(n, dtype=np.int64)
        slots = self._slot(keys)
        while pending.size:
            free = self._keys[slots] == _EMPTY
            uniq, first = np.unique(slots[free], return_index=True)
            winners = pending[free][first]
            self._keys[uniq] = keys[winners]
            self._vals[uniq] = winners
            placed = np.zeros(pending.size, dtype=bool)
            placed[np.flatnonzero(free)[first]] = True
            pending = pending[~placed]
            slots = (slots[~placed] + np.uint64(1)) & self._mask

    def _slot(self, keys: U64) -> U64:
        return (keys * _GOLDEN) >> np.uint64(64 - self._bits)

    def lookup(self, query: U64) -> I64:
        """Position of each query key in the original array, -1 when absent."""
        slots = self._slot(query)
        found = self._keys[slots]
        hit = found == query
        out = np.where(hit, self._vals[slots], -1)
        cont = ~hit & (found != _EMPTY)
        idx = np.flatnonzero(cont)
        slots = (slots[cont] + np.uint64(1)) & self._mask
        while idx.size:
            found = self._keys[slots]
            hit = found == query[idx]
            out[idx[hit]] = self._vals[slots[hit]]
            cont = ~hit & (found != _EMPTY)
            idx = idx[cont]
            slots = (slots[cont] + np.uint64(1)) & self._mask
        return out


def _tfidf(rows: I64, cols: I64, n_rows: int, idf: F32) -> sp.csr_matrix:
    """Sublinear TF x IDF, L2-normalised rows."""
    ones = np.ones(rows.size, dtype=np.float32)
    m = sp.csr_matrix((ones, (rows, cols)), shape=(n_rows, idf.size), dtype=np.float32)
    m.sum_duplicates()
    m.data = (1.0 + np.log(m.data)) * idf[m.indices]
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    m.data /= np.repeat(norms, np.diff(m.indptr)).astype(np.float32)
    return m


def _idf(df: npt.NDArray[np.int64], n_docs: int) -> F32:
    idf: F32 = (np.log((1.0 + n_docs) / (1.0 + df)) + 1.0).astype(np.float32)
    return idf


@dataclass(slots=True)
class FeatureSpace:
    """Fitted vocabulary, IDF weights and block weights."""

    char_keys: U64
    char_idf: F32
    words: list[str]
    word_idf: F32
    max_n: int = 3
    word_weight: float = 0.0
    title_tokens: int = 0
    title_weight: float = 0.0
    word_index: dict[str, int] = field(init=False, repr=False, compare=False)
    char_index: KeyIndex = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.word_index = {w: i for i, w in enumerate(self.words)}
        self.char_index = KeyIndex(self.char_keys)

    @property
    def n_features(self) -> int:
        n = self.char_keys.size
        if self.title_tokens > 0 and self.title_weight > 0:
            n += self.char_keys.size
        if self.word_weight > 0:
            n += len(self.words)
        return int(n)

    @classmethod
    def fit(
        cls,
        docs: Sequence[Sequence[str]],
        *,
        max_n: int = 3,
        min_df: int = 2,
        word_weight: float = 0.0,
        title_tokens: int = 0,
        title_weight: float = 0.0,
    ) -> FeatureSpace:
        """Learn the vocabulary (n-grams in at least ``min_df`` docs) and IDF weights."""
        rows, keys = char_ngram_keys(docs, max_n)
        uniq, inv = np.unique(keys, return_inverse=True)
        m = sp.csr_matrix((np.ones(rows.size, np.int8), (rows, inv.ravel())), shape=(len(docs), uniq.size))
        m.sum_duplicates()
        df = np.bincount(m.indices, minlength=uniq.size)
        keep = df >= min_df
        vocab_words: dict[str, int] = {}
        for d in docs:
            for w in set(d):
                vocab_words[w] = vocab_words.get(w, 0) + 1
        words = sorted(w for w, c in vocab_words.items() if c >= min_df)
        wdf = np.array([vocab_words[w] for w in words], dtype=np.int64)
        return cls(
            char_keys=uniq[keep],
            char_idf=_idf(df[keep], len(docs)),
            words=words,
            word_idf=_idf(wdf, len(docs)),
            max_n=max_n,
            word_weight=word_weight,
            title_tokens=title_tokens,
            title_weight=title_weight,
        )

    def _char_block(self, docs: Sequence[Sequence[str]]) -> sp.csr_matrix:
        rows, keys = char_ngram_keys(docs, self.max_n)
        idx = self.char_index.lookup(keys)
        hit = idx >= 0
        return _tfidf(rows[hit], idx[hit], len(docs), self.char_idf)

    def transform(self, docs: Sequence[Sequence[str]]) -> sp.csr_matrix:
        """Map token lists to the TF-IDF matrix (n_docs x n_features)."""
        blocks = [self._char_block(docs)]
        if self.title_tokens > 0 and self.title_weight > 0:
            head = self._char_block([d[: self.title_tokens] for d in docs])
            blocks.append(head * np.float32(self.title_weight))
        if self.word_weight > 0:
            flat = list(chain.from_iterable(docs))
            wc = np.fromiter(map(self.word_index.get, flat, repeat(-1)), dtype=np.int64, count=len(flat))
            lens = np.fromiter((len(d) for d in docs), dtype=np.int64, count=len(docs))
            wr = np.repeat(np.arange(len(docs), dtype=np.int64), lens)
            hit = wc >= 0
            xw = _tfidf(wr[hit], wc[hit], len(docs), self.word_idf)
            blocks.append(xw * np.float32(self.word_weight))
        if len(blocks) == 1:
            return blocks[0]
        out: sp.csr_matrix = sp.hstack(blocks, format="csr")
        return out
