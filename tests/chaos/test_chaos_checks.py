"""The chaos verdict and table (pure; the faults themselves are in test_chaos.py)."""

from __future__ import annotations

from dataclasses import replace

from hotline.chaos_checks import ChaosResult, table

GOOD = ChaosResult(
    fault="nats-kill",
    database="sqlite",
    sent=40,
    stored=40,
    fully_processed=40,
    lost=0,
    doubled=0,
    half_made=0,
    http_5xx=0,
    http_503=0,
    dead_letters=0,
    fault_s=0.7,
    recover_s=1.7,
    healthy=True,
    nats_restarts=1,
)


def test_only_a_clean_recovery_is_ok() -> None:
    assert GOOD.ok
    for broken in (
        replace(GOOD, lost=1),
        replace(GOOD, doubled=1),
        replace(GOOD, half_made=1, fully_processed=39),
        replace(GOOD, dead_letters=1),
        replace(GOOD, recover_s=None),
        replace(GOOD, healthy=False),
        replace(GOOD, nats_restarts=0),
    ):
        assert not broken.ok, broken
    assert replace(GOOD, fault="db-outage", nats_restarts=None, http_5xx=9, http_503=9).ok


def test_one_row_per_fault_under_one_header() -> None:
    lines = table([GOOD, replace(GOOD, fault="db-outage", http_5xx=5, http_503=5, recover_s=None)]).splitlines()
    assert lines[0].split()[:3] == ["fault", "database", "sent"]
    assert lines[1].split() == ["nats-kill", "sqlite", "40", "40", "40", "0", "0", "0", "0", "0", "0.7", "1.7"]
    assert "5 (5×503)" in lines[2] and lines[2].endswith("never")
