"""Vectorised TF-IDF features over normalised tokens.

Up to three blocks, each L2-normalised and weighted:

* character 1..3-grams inside tokens, with a boundary marker (like scikit-learn's ``char_wb``);
  n-grams are packed into 63-bit integer keys (21 bits per code point) with numpy, so extraction
  for a whole batch costs a few array operations instead of a Python loop per n-gram;
* the same character n-grams of the first ``title_tokens`` tokens only (the title, roughly: most
  training rows have no separate subject field, so the head of the token list stands in for it);
* word unigrams (the jieba tokens themselves); off unless ``word_weight > 0``.

The vocabulary is stored as a sorted key array (characters) and a sorted word list, which keeps
the artefact small and the mapping exact (no hashing collisions). A :class:`FeatureReader` reads several
spaces over the same tokens in one pass (the topic and the matter model); the n-gram keys, their lookup
and counting live in :mod:`ngram_keys`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain, repeat
from typing import overload

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from hotline.services.classifier.ngram_keys import (
    ByIdentity,
    KeyIndex,
    char_ngram_keys,
    char_ngrams,
    columns_in,
    count_matrix,
    head_length,
    tfidf_of,
)

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
F32 = npt.NDArray[np.float32]


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

    def __post_init__(self) -> None:
        self.word_index = {w: i for i, w in enumerate(self.words)}

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

    def transform(self, docs: Sequence[Sequence[str]]) -> sp.csr_matrix:
        """Map token lists to the TF-IDF matrix (n_docs x n_features)."""
        if isinstance(docs, TokenBatch):
            return docs.features(self)
        return reader_of(self).transform(docs)[0]


class FeatureReader:
    """Several feature spaces read over the same token lists at once: the char n-grams are cut once,
    looked up once in the union of the spaces' vocabularies and counted once, the words likewise; each
    space then gets its own blocks. The topic and the matter model read every text this way."""

    __slots__ = ("_char_columns", "_index", "_max_n", "_spaces", "_width", "_word_columns", "_word_index")

    def __init__(self, spaces: Sequence[FeatureSpace]) -> None:
        if len({space.max_n for space in spaces}) != 1:
            raise ValueError("spaces read together must cut the same n-grams (one max_n)")
        self._spaces = tuple(spaces)
        self._max_n = spaces[0].max_n
        union = np.unique(np.concatenate([space.char_keys for space in spaces]))
        self._width = int(union.size)
        self._index = KeyIndex(union)
        self._char_columns = [columns_in(union, space.char_keys) for space in spaces]
        words = sorted(set(chain.from_iterable(space.words for space in spaces if space.word_weight > 0)))
        self._word_index = {word: i for i, word in enumerate(words)}
        self._word_columns = [
            np.fromiter((space.word_index.get(word, -1) for word in words), dtype=np.int64, count=len(words))
            for space in spaces
        ]

    def transform(self, docs: Sequence[Sequence[str]]) -> list[sp.csr_matrix]:
        """Each space's TF-IDF matrix of ``docs``, in the order the spaces were given."""
        n = len(docs)
        grams = char_ngrams(docs, self._max_n)
        at = self._index.lookup(grams.keys)
        hit = at >= 0
        rows, cols, ends = grams.rows[hit], at[hit], grams.ends[hit]
        counts = count_matrix(rows, cols, n, self._width)
        heads: dict[int, sp.csr_matrix] = {}  # per title length, the counts of the docs' first tokens
        for space in self._spaces:
            if space.title_tokens > 0 and space.title_weight > 0 and space.title_tokens not in heads:
                lengths = np.fromiter((head_length(d, space.title_tokens) for d in docs), dtype=np.int64, count=n)
                in_head = ends <= lengths[rows]
                heads[space.title_tokens] = count_matrix(rows[in_head], cols[in_head], n, self._width)
        word_counts = self._word_counts(docs) if self._word_index else None
        out = []
        for space, char_columns, word_columns in zip(self._spaces, self._char_columns, self._word_columns, strict=True):
            blocks = [tfidf_of(counts, char_columns, space.char_idf)]
            if space.title_tokens > 0 and space.title_weight > 0:
                blocks.append(
                    tfidf_of(heads[space.title_tokens], char_columns, space.char_idf) * np.float32(space.title_weight)
                )
            if space.word_weight > 0 and word_counts is not None:
                blocks.append(tfidf_of(word_counts, word_columns, space.word_idf) * np.float32(space.word_weight))
            out.append(blocks[0] if len(blocks) == 1 else sp.hstack(blocks, format="csr"))
        return out

    def _word_counts(self, docs: Sequence[Sequence[str]]) -> sp.csr_matrix:
        flat = list(chain.from_iterable(docs))
        at = np.fromiter(map(self._word_index.get, flat, repeat(-1)), dtype=np.int64, count=len(flat))
        lens = np.fromiter((len(d) for d in docs), dtype=np.int64, count=len(docs))
        rows = np.repeat(np.arange(len(docs), dtype=np.int64), lens)
        hit = at >= 0
        return count_matrix(rows[hit], at[hit], len(docs), len(self._word_index))


_readers: ByIdentity[FeatureSpace, FeatureReader] = ByIdentity()


def reader_of(*spaces: FeatureSpace) -> FeatureReader:
    """A reader of these spaces together, built once for as long as they live."""
    return _readers.get(spaces, lambda: FeatureReader(spaces))


class TokenBatch(Sequence[list[str]]):
    """A batch's token lists that keep their features once read: the topic and the matter model read
    the same tokens, and reading them together costs about 0.6 of reading them apart. Immutable."""

    __slots__ = ("_docs", "_read", "_spaces")

    def __init__(self, docs: Sequence[list[str]], spaces: Sequence[FeatureSpace] = ()) -> None:
        self._docs = tuple(docs)
        self._spaces = tuple(spaces)  # the spaces read together on first use
        self._read: dict[int, sp.csr_matrix] = {}

    @overload
    def __getitem__(self, index: int) -> list[str]: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[list[str]]: ...

    def __getitem__(self, index: int | slice) -> list[str] | Sequence[list[str]]:
        return self._docs[index]

    def __len__(self) -> int:
        return len(self._docs)

    def features(self, space: FeatureSpace) -> sp.csr_matrix:
        """``space``'s TF-IDF matrix of the batch (read with the batch's other spaces, when it is one)."""
        found = self._read.get(id(space))
        if found is not None:
            return found
        together = self._spaces if any(s is space for s in self._spaces) else (space,)
        if len({s.max_n for s in together}) != 1:
            together = (space,)
        for member, matrix in zip(together, reader_of(*together).transform(self._docs), strict=True):
            self._read[id(member)] = matrix
        return self._read[id(space)]
