"""`hotline bench --mode repeat`: the repeat check's text search on one township's open cases.

Times, per call, a scan of every candidate (each candidate's bigrams computed once beforehand, as the
intake's earlier cache kept them), a query of the bigram index the intake keeps
(`TownshipCandidates.most_similar`), and the index with its upkeep as at the limit (the call's query,
then its case stored and the oldest dropped); checks that the index ranks as `similar.most_similar`
does, and measures what the township's kept list and index hold. Prints one JSON line.

Texts: `--texts FILE` (CSV or JSON lines with a `text` column, e.g. a county's own cases or the public
corpus the classifier is trained on), else the HTTP bench's generated calls.
"""

from __future__ import annotations

import json
import statistics
import time
import tracemalloc
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hotline.bench import file_texts
from hotline.bench_http import call_bodies, machine
from hotline.services.intake.candidates import Candidate, TownshipCandidates
from hotline.services.intake.cases import REPEAT_SIMILARITY
from hotline.services.intake.similar import bigram_codes, most_similar

_NOW = datetime(2026, 1, 1, tzinfo=UTC)
_CHANNEL, _TOWNSHIP = "hotline", "城厢镇"


def bench_texts(path: Path | None, count: int, chars: int) -> list[str]:
    """Up to `count` texts (the file's raw texts of 20 characters or more, cut at `chars`)."""
    if path is None:
        return [body["content"] for body in call_bodies(count)]
    return [text[:chars] for text in file_texts(path)[:count]]


def _best_ms_per_call(run: Callable[[], int], rounds: int = 3) -> float:
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        calls = run()
        timings.append((time.perf_counter() - started) * 1000 / calls)
    return round(min(timings), 3)


def _kept(candidates: Sequence[Candidate]) -> TownshipCandidates:
    kept = TownshipCandidates(limit=len(candidates), clock=lambda: 0.0)
    kept.read(_CHANNEL, _TOWNSHIP, candidates)
    return kept


def run_repeat_bench(*, texts_file: Path | None = None, candidates: int = 500, calls: int = 1000) -> int:
    texts = bench_texts(texts_file, candidates + calls, chars=200)
    if len(texts) < candidates + 100:
        raise SystemExit(f"{texts_file}：20 字以上的文本只有 {len(texts)} 条，需要 {candidates + 100} 条")
    held = [Candidate(uuid.uuid4(), t, _NOW - timedelta(minutes=n)) for n, t in enumerate(texts[:candidates])]
    queries, since = texts[candidates:], _NOW - timedelta(days=30)
    pairs = [(c.case_id, c.content) for c in held]
    grams = [(c.case_id, bigram_codes(c.content)) for c in held]
    kept = _kept(held)

    def scan() -> int:
        for query in queries:
            wanted = bigram_codes(query)
            for _, codes in grams:
                if codes and 2 * len(wanted.intersection(codes)) / (len(wanted) + len(codes)) >= REPEAT_SIMILARITY:
                    pass
        return len(queries)

    def index_query() -> int:
        for query in queries:
            kept.most_similar(_CHANNEL, _TOWNSHIP, query, since=since, limit=3, floor=REPEAT_SIMILARITY)
        return len(queries)

    def index_with_upkeep() -> int:
        churned = _kept(held)
        for n, query in enumerate(queries):
            churned.most_similar(_CHANNEL, _TOWNSHIP, query, since=since, limit=3, floor=REPEAT_SIMILARITY)
            churned.stored(_CHANNEL, _TOWNSHIP, Candidate(uuid.uuid4(), query, _NOW + timedelta(seconds=n)))
        return len(queries)

    agree = all(
        kept.most_similar(_CHANNEL, _TOWNSHIP, q, since=since, limit=3, floor=0.3)
        == most_similar(q, pairs, limit=3, floor=0.3)
        for q in queries[:200]
    )
    tracemalloc.start()
    measured = _kept(held)
    measured.most_similar(_CHANNEL, _TOWNSHIP, queries[0], since=since, limit=3, floor=REPEAT_SIMILARITY)
    kept_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del measured
    result: dict[str, Any] = {
        "mode": "repeat",
        "texts": str(texts_file) if texts_file else "generated calls",
        "candidates": candidates,
        "calls": len(queries),
        "mean_chars": round(statistics.mean(len(t) for t in texts[:candidates]), 1),
        "scan_with_kept_bigrams_ms_per_call": _best_ms_per_call(scan),
        "index_ms_per_call": _best_ms_per_call(index_query),
        "index_with_upkeep_ms_per_call": _best_ms_per_call(index_with_upkeep),
        "kept_mb": round(kept_bytes / 1e6, 2),
        "index_ranks_as_the_scan": agree,
        "machine": machine(),
    }
    print(json.dumps(result, ensure_ascii=False))
    return 0 if agree else 1
