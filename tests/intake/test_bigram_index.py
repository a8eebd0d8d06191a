"""The repeat check's bigram codes give the same Dice as the bigram strings, and its bigram index
scores exactly what a scan of every text would, through additions, removals and changed texts."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from hotline.bench_http import call_bodies
from hotline.services.intake.bigram_index import BigramIndex
from hotline.services.intake.candidates import Candidate, TownshipCandidates
from hotline.services.intake.similar import bigram_codes, bigrams, most_similar

TEXTS = [body["content"] for body in call_bodies(200, seed=5)] + ["路灯坏了！！", "a b", "", "噪音扰民，噪音扰民"]


def _dice(a: str, b: str) -> float:
    x, y = bigrams(a), bigrams(b)
    return 2 * len(x & y) / (len(x) + len(y)) if x and y else 0.0


def test_codes_are_the_bigrams_one_for_one() -> None:
    for text in TEXTS:
        assert len(bigram_codes(text)) == len(bigrams(text))


def test_ranking_is_the_string_dice() -> None:
    candidates = [(uuid.uuid4(), text) for text in TEXTS]
    for query in TEXTS[:20]:
        expected = sorted(((key, _dice(query, text)) for key, text in candidates), key=lambda p: p[1], reverse=True)
        expected = [(key, score) for key, score in expected if score >= 0.3][:3]
        assert most_similar(query, candidates, limit=3, floor=0.3) == expected


def test_the_index_scores_what_a_scan_of_every_text_does_through_changes() -> None:
    rng = random.Random(7)
    index: BigramIndex[int] = BigramIndex()
    held: dict[int, str] = {}
    for step in range(1500):
        key = rng.randrange(60)
        if rng.random() < 0.3:
            index.discard(key)
            held.pop(key, None)
        else:  # a new text, the same one again, or a key's text changed
            text = rng.choice(TEXTS)
            index.add(key, text)
            held[key] = text
        # Queried often enough to catch both sides of each rebuild of the index's arrays.
        if step % 7 == 0:
            query = rng.choice(TEXTS)
            scanned = {k: _dice(query, text) for k, text in held.items()}
            expected = {k: score for k, score in scanned.items() if score >= 0.2}
            assert dict(index.scores(query, floor=0.2)) == expected
            assert len(index) == len(held) and set(index.indexed_keys()) == set(held)


def test_an_emptied_index_finds_nothing_before_and_after_its_arrays_are_rebuilt() -> None:
    index: BigramIndex[str] = BigramIndex()
    for n, text in enumerate(TEXTS):
        index.add(str(n), text)
    assert index.scores(TEXTS[0], floor=0.0)  # merged into the arrays here (more than MERGE_AFTER added)
    for n in range(len(TEXTS)):
        index.discard(str(n))
    assert len(index) == 0 and index.scores(TEXTS[0], floor=0.0) == []
    index.add("again", TEXTS[1])
    assert [key for key, _ in index.scores(TEXTS[1], floor=0.99)] == ["again"]


NOON = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)


def test_kept_candidates_rank_as_the_scan_of_those_received_since_newest_first_at_equal_scores() -> None:
    kept = TownshipCandidates(limit=50, clock=lambda: 0.0)
    rng = random.Random(3)
    listed = [Candidate(uuid.uuid4(), rng.choice(TEXTS[:40]), NOON - timedelta(minutes=m)) for m in range(80)]
    kept.read("hotline", "城厢镇", listed)  # the newest 50 kept
    # Stored after the read but newer than most of it: indexed later, ranked earlier at equal scores.
    for m in range(10):
        kept.stored("hotline", "城厢镇", Candidate(uuid.uuid4(), TEXTS[m], NOON - timedelta(minutes=m, seconds=30)))
    held = kept.fresh("hotline", "城厢镇") or []
    assert len(held) == 50
    since = NOON - timedelta(minutes=30)
    for query in TEXTS[:40]:
        scan = most_similar(query, [(c.case_id, c.content) for c in held if c.received_at >= since], limit=5, floor=0.3)
        assert kept.most_similar("hotline", "城厢镇", query, since=since, limit=5, floor=0.3) == scan
