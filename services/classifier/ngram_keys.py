"""Char n-gram keys of token lists, and the numpy pieces that look them up and count them.

An n-gram is packed into one 63-bit integer (21 bits per code point), so cutting a whole batch costs a
few array operations instead of a Python loop per n-gram; a vocabulary is a sorted key array, looked up
through an open-addressing hash table (:class:`KeyIndex`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

_SPACE = 32
_SEP = 0
CODE_BITS = np.uint64(21)  # a Unicode code point fits in 21 bits: three make one 63-bit n-gram key

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
K = TypeVar("K")
V = TypeVar("V")


def joined_code_points(texts: Sequence[str]) -> tuple[U64, I64]:
    """The code points of `texts` joined by NUL, and each text's length with its NUL: a whole batch in
    one array, so that one pass of numpy cuts every text (no n-gram holds a NUL)."""
    chars = np.frombuffer("\x00".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    return chars, np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=len(texts))


def text_of_each(lengths: I64, size: int) -> I64:
    """For each of `size` joined code points, the index of the text it belongs to."""
    return np.repeat(np.arange(lengths.size, dtype=np.int64), lengths)[:size]


@dataclass(frozen=True, slots=True)
class NGrams:
    """Every char n-gram of a batch of token lists: the doc it is in, its key, and where it ends in the
    doc's joined string `` t1 t2 ... `` (so that the n-grams of the first tokens alone can be picked)."""

    rows: I64
    keys: U64
    ends: I64


def char_ngrams(docs: Sequence[Sequence[str]], max_n: int = 3) -> NGrams:
    """Every char n-gram (n = 1..max_n) of every doc.

    Each doc is a token list; tokens are joined as `` t1 t2 ... `` and n-grams never cross a
    token boundary except at their first or last character (the boundary marker).
    """
    if max_n not in (1, 2, 3):
        raise ValueError("max_n must be 1, 2 or 3")
    if not docs:
        return NGrams(np.zeros(0, np.int64), np.zeros(0, np.uint64), np.zeros(0, np.int64))
    cps, lens = joined_code_points([" " + " ".join(d) + " " for d in docs])
    doc_of = text_of_each(lens, cps.size)
    # Where each character sits in its own doc's string.
    offset = np.arange(cps.size, dtype=np.int64) - np.repeat(np.cumsum(lens) - lens, lens)[: cps.size]
    rows: list[I64] = []
    keys: list[U64] = []
    ends: list[I64] = []
    real = (cps != _SPACE) & (cps != _SEP)
    rows.append(doc_of[real])
    keys.append(cps[real])
    ends.append(offset[real] + 1)
    if max_n >= 2:
        a, b = cps[:-1], cps[1:]
        ok = (a != _SEP) & (b != _SEP) & ((a != _SPACE) | (b != _SPACE))
        rows.append(doc_of[:-1][ok])
        keys.append(a[ok] | (b[ok] << CODE_BITS))
        ends.append(offset[:-1][ok] + 2)
    if max_n >= 3:
        a, b, c = cps[:-2], cps[1:-1], cps[2:]
        ok = (a != _SEP) & (c != _SEP) & real[1:-1]
        rows.append(doc_of[:-2][ok])
        keys.append(a[ok] | (b[ok] << CODE_BITS) | (c[ok] << (CODE_BITS * np.uint64(2))))
        ends.append(offset[:-2][ok] + 3)
    return NGrams(np.concatenate(rows), np.concatenate(keys), np.concatenate(ends))


def char_ngram_keys(docs: Sequence[Sequence[str]], max_n: int = 3) -> tuple[I64, U64]:
    """(row index, n-gram key) of every char n-gram of every doc (see :func:`char_ngrams`)."""
    grams = char_ngrams(docs, max_n)
    return grams.rows, grams.keys


def head_length(doc: Sequence[str], tokens: int) -> int:
    """The length of `` t1 ... tk `` for the first ``tokens`` tokens of ``doc``: an n-gram of the doc
    ending there or before is an n-gram of that head alone."""
    head = doc[:tokens]
    return 2 + sum(len(t) for t in head) + max(len(head) - 1, 0)


class ByIdentity(Generic[K, V]):
    """A few values kept per tuple of objects, by the objects' identity (models hold numpy arrays and are
    not hashable by value); the objects are kept alive with their value, so an id is never reused.
    Thread-safe: the classifier may read batches from several threads."""

    __slots__ = ("_entries", "_lock", "_size")

    def __init__(self, size: int = 6) -> None:
        self._entries: dict[tuple[int, ...], tuple[tuple[K, ...], V]] = {}
        self._lock = threading.Lock()
        self._size = size

    def get(self, keys: Sequence[K], make: Callable[[], V]) -> V:
        ident = tuple(id(k) for k in keys)
        found = self._entries.get(ident)
        if found is not None:
            return found[1]
        value = make()
        with self._lock:
            if len(self._entries) >= self._size:
                self._entries.pop(next(iter(self._entries)))
            self._entries[ident] = (tuple(keys), value)
        return value


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


def count_matrix(rows: I64, cols: I64, n_rows: int, width: int, dtype: type = np.float32) -> sp.csr_matrix:
    """How often each (row, column) pair occurs, as a CSR matrix with sorted columns. One sort of the
    pairs as integers: scipy's COO to CSR conversion with summed duplicates took three times as long,
    a tenth of jieba's time on the same texts."""
    if width == 0 or rows.size == 0:
        return sp.csr_matrix((n_rows, width), dtype=dtype)
    pairs, counts = np.unique(rows * np.int64(width) + cols, return_counts=True)
    at_rows, at_cols = np.divmod(pairs, np.int64(width))
    indptr = np.searchsorted(at_rows, np.arange(n_rows + 1, dtype=np.int64))
    return sp.csr_matrix((counts.astype(dtype), at_cols, indptr), shape=(n_rows, width))


def tfidf_of(counts: sp.csr_matrix, columns: I64, idf: npt.NDArray[np.floating[Any]]) -> sp.csr_matrix:
    """One vocabulary's sublinear TF x IDF rows, l2-normalised, from counts over a union of vocabularies
    (``columns``: each union position's column in this vocabulary, -1 where it has none; the union
    and the vocabulary are both sorted, so columns stay sorted within a row)."""
    n_rows = counts.shape[0]
    text_of = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(counts.indptr))
    mapped = columns[counts.indices]
    held = mapped >= 0
    if held.all():  # a vocabulary that holds the whole union (the largest one, often)
        rows, cols, found = text_of, mapped, counts.data
    else:
        rows, cols, found = text_of[held], mapped[held], counts.data[held]
    values = (1.0 + np.log(found.astype(idf.dtype))) * idf[cols]
    norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=n_rows))
    scale = np.divide(1.0, norms, out=np.ones_like(norms), where=norms > 0).astype(idf.dtype)
    values *= scale[rows]
    indptr = np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=n_rows))))
    return sp.csr_matrix((values, cols, indptr), shape=(n_rows, idf.size))


def columns_in(union: U64, codes: U64) -> I64:
    """Each union key's position in the sorted ``codes``, -1 where they do not hold it."""
    if codes.size == 0:
        return np.full(union.size, -1, dtype=np.int64)
    at = np.searchsorted(codes, union).clip(max=codes.size - 1)
    return np.where(codes[at] == union, at, -1).astype(np.int64)
