"""The repeat check's bigram codes give the same Dice as the bigram strings, and their cache stays
bounded and never answers for a text that changed."""

from __future__ import annotations

import uuid

from hotline.bench_http import call_bodies
from hotline.services.intake.similar import BigramCache, bigram_codes, bigrams, most_similar

TEXTS = [body["content"] for body in call_bodies(200, seed=5)] + ["路灯坏了！！", "a b", "", "噪音扰民，噪音扰民"]


def _dice(a: str, b: str) -> float:
    x, y = bigrams(a), bigrams(b)
    return 2 * len(x & y) / (len(x) + len(y)) if x and y else 0.0


def test_codes_are_the_bigrams_one_for_one() -> None:
    for text in TEXTS:
        assert len(bigram_codes(text)) == len(bigrams(text))


def test_ranking_with_or_without_the_cache_is_the_string_dice() -> None:
    candidates = [(uuid.uuid4(), text) for text in TEXTS]
    cache = BigramCache()
    for query in TEXTS[:20]:
        expected = sorted(((key, _dice(query, text)) for key, text in candidates), key=lambda p: p[1], reverse=True)
        expected = [(key, score) for key, score in expected if score >= 0.3][:3]
        assert most_similar(query, candidates, limit=3, floor=0.3) == expected
        assert most_similar(query, candidates, limit=3, floor=0.3, cache=cache) == expected


def test_the_cache_drops_the_least_recently_used_beyond_its_bound() -> None:
    cache = BigramCache(max_entries=3)
    keys = [uuid.uuid4() for _ in range(4)]
    for key, text in zip(keys[:3], TEXTS, strict=False):
        cache.codes(key, text)
    cache.codes(keys[0], TEXTS[0])  # used again: now the most recent
    cache.codes(keys[3], TEXTS[3])
    assert len(cache) == 3
    assert not cache.holds(keys[1], TEXTS[1]) and cache.holds(keys[0], TEXTS[0])


def test_a_changed_text_is_never_answered_from_the_cache() -> None:
    cache, key = BigramCache(), uuid.uuid4()
    cache.codes(key, "路灯坏了")
    assert set(cache.codes(key, "自来水发黄")) == bigram_codes("自来水发黄")
