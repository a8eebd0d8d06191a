"""How busy SQLite's one write lock is during an HTTP bench: each process's share of the time it held the
writers' turn, its turns a second and how long they waited, read from the services' own Prometheus
metrics (`shared/sqlite_turns.py`) before and after a phase.

Why in the bench: on a slow or busy machine a call's latency at intake is mostly its wait for the
turn, behind the feed's and escalation's transactions; the shares say which process to look at.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True, slots=True)
class WriterReading:
    held_s: float = 0.0
    turns: float = 0.0
    waited_s: float = 0.0


def parse_writer_metrics(text: str) -> WriterReading:
    """The writer-turn counters in one process's /metrics text (zeros where it never wrote)."""
    held = turns = waited = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "hotline_sqlite_writer_held_seconds_total":
                held = sample.value
            elif sample.name == "hotline_sqlite_writer_wait_seconds_count":
                turns = sample.value
            elif sample.name == "hotline_sqlite_writer_wait_seconds_sum":
                waited = sample.value
    return WriterReading(held, turns, waited)


def read_writers(urls: Mapping[str, str], timeout_s: float = 5.0) -> dict[str, WriterReading]:
    """Each process's reading; a process that does not answer is left out."""
    readings = {}
    for name, url in urls.items():
        try:
            with urllib.request.urlopen(url, timeout=timeout_s) as response:
                readings[name] = parse_writer_metrics(response.read().decode("utf-8"))
        except OSError:
            continue
    return readings


def writer_turns(
    before: Mapping[str, WriterReading], after: Mapping[str, WriterReading], elapsed_s: float
) -> dict[str, Any]:
    """Per process that wrote in between: share of the time it held the turn, turns a second, mean wait
    and hold a turn (ms); `held_share_all`: how much of the time the lock was held by anyone."""
    shares: dict[str, Any] = {}
    total = 0.0
    for name, end in after.items():
        start = before.get(name, WriterReading())
        turns = end.turns - start.turns
        if turns <= 0:
            continue
        held = end.held_s - start.held_s
        total += held
        shares[name] = {
            "held_share": round(held / elapsed_s, 3),
            "turns_per_s": round(turns / elapsed_s, 1),
            "wait_ms_mean": round((end.waited_s - start.waited_s) / turns * 1000, 1),
            "held_ms_per_turn": round(held / turns * 1000, 1),
        }
    shares["held_share_all"] = round(total / elapsed_s, 3)
    return shares
