"""The chaos verdict and table (pure; the faults themselves are in test_chaos.py)."""

from __future__ import annotations

from dataclasses import replace

from hotline.chaos_checks import ChaosResult, missing_step, table

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


def test_a_full_store_counts_only_when_the_outbox_held_cases_through_it() -> None:
    full = replace(GOOD, fault="store-full", nats_restarts=None, held_in_outbox=12)
    assert full.ok
    assert not replace(full, held_in_outbox=0).ok  # the fault never struck
    assert not replace(full, held_in_outbox=None).ok


def test_every_forgery_must_be_dead_lettered_and_make_nothing() -> None:
    forged = replace(GOOD, fault="forged", nats_restarts=None, forged=7, forged_dead_lettered=7)
    assert forged.ok
    assert not replace(forged, forged_dead_lettered=6).ok
    assert not replace(forged, forged_rows=1).ok  # a case, task, clock or case event made for one
    assert not replace(forged, dead_letters=1).ok  # a real case dead-lettered beside them
    assert not replace(forged, forged=0, forged_dead_lettered=0).ok  # nothing was forged


def test_one_row_per_fault_under_one_header() -> None:
    lines = table(
        [
            GOOD,
            replace(GOOD, fault="db-outage", http_5xx=5, http_503=5, recover_s=None),
            replace(GOOD, fault="store-full", held_in_outbox=12),
            replace(GOOD, fault="forged", forged=7, forged_dead_lettered=6, forged_rows=1),
        ]
    ).splitlines()
    assert lines[0].split()[:3] == ["fault", "database", "sent"]
    assert lines[0].endswith("outbox held  forged  forged DL  forged rows")
    row = ["nats-kill", "sqlite", "40", "40", "40", "0", "0", "0", "0", "0", "0.7", "1.7", "-", "-", "-", "-"]
    assert lines[1].split() == row
    assert "5 (5×503)" in lines[2] and "never" in lines[2]
    assert lines[3].split()[-4:] == ["12", "-", "-", "-"]
    assert lines[4].split()[-4:] == ["-", "7", "6", "1"]


def test_a_case_lacks_the_first_step_of_the_pipeline_it_has_not_reached() -> None:
    assert missing_step("tracked", "城乡建设", "zjj", 1, True) == ""
    assert missing_step("overdue", "城乡建设", "zjj", 1, True) == ""  # tracked, its clock ran out
    assert missing_step("received", None, None, 0, False) == "status received"
    assert missing_step("tracked", None, "zjj", 1, True) == "no topic"
    assert missing_step("tracked", "城乡建设", None, 0, True) == "no unit"
    assert missing_step("tracked", "城乡建设", "zjj", 2, True) == "2 lead tasks"
    assert missing_step("tracked", "城乡建设", "zjj", 1, False) == "no clocks"
    assert missing_step("tracked", "城乡建设", "zjj", 1, True, due_copied=False) == "due moment not on the case row"
