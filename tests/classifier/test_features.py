"""Token features: several spaces read together agree with each read alone, and the title block is the
n-grams of the first tokens alone."""

from __future__ import annotations

import numpy as np

from hotline.services.classifier.features import FeatureSpace, TokenBatch, reader_of
from hotline.services.classifier.ngram_keys import char_ngram_keys, count_matrix, head_length

DOCS = [
    ["小区", "物业", "乱收费", "停车费", "每月", "三百"],
    ["邻居", "半夜", "打麻将"],
    [],
    ["村道", "断", "了", "好几年", "没人", "修", "村委会", "说", "没钱", "等", "镇里", "拨款"],
    ["电梯", "困人"],
]
OTHER = [["学校", "门口", "违停"], ["村道", "坑洼"], ["物业", "不管", "电梯"]]


def _spaces() -> tuple[FeatureSpace, FeatureSpace]:
    titled = FeatureSpace.fit(DOCS + OTHER, min_df=1, word_weight=0.7, title_tokens=3, title_weight=0.8)
    plain = FeatureSpace.fit(OTHER + DOCS[:2], min_df=1, word_weight=0.6)
    return titled, plain


def test_spaces_read_together_agree_with_each_read_alone() -> None:
    titled, plain = _spaces()
    together = reader_of(titled, plain).transform(DOCS)
    for space, matrix in zip((titled, plain), together, strict=True):
        alone = reader_of(space).transform(DOCS)[0]
        assert matrix.shape == (len(DOCS), space.n_features)
        assert np.allclose(matrix.toarray(), alone.toarray(), atol=1e-7)
    batch = TokenBatch(DOCS, (titled, plain))
    assert np.allclose(batch.features(plain).toarray(), together[1].toarray(), atol=1e-7)
    assert np.allclose(titled.transform(batch).toarray(), together[0].toarray(), atol=1e-7)


def test_the_title_block_holds_the_ngrams_of_the_first_tokens_alone() -> None:
    titled, _ = _spaces()
    width = titled.char_keys.size
    matrix = titled.transform(DOCS).toarray()
    rows, keys = char_ngram_keys([d[:3] for d in DOCS], titled.max_n)
    at = np.searchsorted(titled.char_keys, keys)
    counts = count_matrix(rows, at, len(DOCS), width).toarray()
    head = np.where(counts > 0, (1.0 + np.log(np.where(counts > 0, counts, 1))) * titled.char_idf, 0.0)
    norms = np.linalg.norm(head, axis=1, keepdims=True)
    expected = 0.8 * head / np.where(norms > 0, norms, 1.0)
    assert np.allclose(matrix[:, width : 2 * width], expected, atol=1e-6)
    assert head_length(DOCS[0], 3) == len(" 小区 物业 乱收费 ")
