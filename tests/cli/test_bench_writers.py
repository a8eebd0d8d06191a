"""The HTTP bench's reading of SQLite's writers' turns from the services' /metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from hotline.bench_writers import WriterReading, parse_writer_metrics, writer_turns


def metrics_text(held_s: float, waits: list[float]) -> str:
    """A process's /metrics as prometheus_client writes it, with the counters shared/sqlite_turns.py keeps."""
    registry = CollectorRegistry()
    held = Counter("hotline_sqlite_writer_held_seconds", "held", registry=registry)
    wait = Histogram("hotline_sqlite_writer_wait_seconds", "wait", registry=registry)
    held.inc(held_s)
    for seconds in waits:
        wait.observe(seconds)
    return generate_latest(registry).decode("utf-8")


def test_a_process_reading_is_its_held_seconds_turns_and_waits() -> None:
    assert parse_writer_metrics(metrics_text(2.5, [0.01, 0.03])) == WriterReading(2.5, 2, 0.04)
    assert parse_writer_metrics("# a process that never wrote\n") == WriterReading()


def test_shares_turns_and_means_between_two_readings() -> None:
    before = {"intake": WriterReading(1.0, 100, 0.5), "feed": WriterReading(2.0, 10, 0.1)}
    after = {
        "intake": WriterReading(4.0, 600, 13.0),
        "feed": WriterReading(6.0, 90, 0.9),
        "classifier": WriterReading(),  # never writes: left out
    }
    shares = writer_turns(before, after, elapsed_s=10.0)
    assert shares == {
        "intake": {"held_share": 0.3, "turns_per_s": 50.0, "wait_ms_mean": 25.0, "held_ms_per_turn": 6.0},
        "feed": {"held_share": 0.4, "turns_per_s": 8.0, "wait_ms_mean": 10.0, "held_ms_per_turn": 50.0},
        "held_share_all": 0.7,
    }
