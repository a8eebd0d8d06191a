"""Char n-grams read in numpy as scikit-learn's TfidfVectorizer reads them, and shared between readings."""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from hotline.services.classifier.char_grams import GramReader, pack, rows_for

TRAIN = ["邻居半夜打麻将吵得睡不着", "电梯三天两头困人", "村里的水泥路断了好几年", "Mixed  文本 with spaces"]
TEXTS = [
    "楼下有人打牌吵闹，电梯也坏了",
    "",
    "村",
    "MIXED   文本\twith 空格",
    "两个\x00文本之间的NUL",
    "麻将麻将麻将麻将",
]


class Vocab:
    def __init__(self, texts: list[str]) -> None:
        self.vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True).fit(texts)
        order = sorted((pack(gram), i) for gram, i in self.vectorizer.vocabulary_.items())
        self.columns = np.array([i for _, i in order])
        self.codes = np.array([c for c, _ in order], dtype=np.uint64)
        self.idf = self.vectorizer.idf_[self.columns]

    def expected(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.vectorizer.transform(texts).todense())[:, self.columns]


def test_rows_agree_with_scikit_learn_for_each_of_two_vocabularies_read_at_once() -> None:
    first, second = Vocab(TRAIN[:2]), Vocab(TRAIN[1:])
    together = GramReader([first, second]).rows(TEXTS)
    for vocab, rows in zip([first, second], together, strict=True):
        assert rows.shape == (len(TEXTS), vocab.codes.size)
        assert np.allclose(rows.toarray(), vocab.expected(TEXTS), atol=1e-9)


def test_an_absent_vocabulary_gets_no_rows_and_the_others_are_unchanged() -> None:
    vocab = Vocab(TRAIN)
    absent, rows = rows_for(TEXTS, None, vocab)
    assert absent is None and rows is not None
    assert np.allclose(rows.toarray(), vocab.expected(TEXTS), atol=1e-9)
    assert rows_for([], None, vocab) == [None, None]
