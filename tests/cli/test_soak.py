"""The soak's arithmetic and report (pure; the soak itself runs with `hotline soak`)."""

from __future__ import annotations

import os

from hotline.soak import SoakReport, growth_pct, report_text, rss_kib


def test_growth_is_relative_to_the_start() -> None:
    assert growth_pct(100_000, 105_000) == 5.0
    assert growth_pct(200_000, 190_000) == -5.0
    assert growth_pct(0, 10) == 0.0


def report() -> SoakReport:
    return SoakReport(
        rate=50,
        minutes=10,
        warmup_minutes=1,
        database="sqlite",
        sent=30_000,
        accepted=30_000,
        fully_processed=30_000,
        processed_when_load_ended=29_000,
        settle_s=12.4,
        achieved_rate=49.9,
        rss_start_kib={"nats-server": 40_960, "intake": 204_800},
        rss_end_kib={"nats-server": 51_200, "intake": 204_800},
        restarts={"nats-server": 0, "intake": 1},
    )


def test_every_process_is_a_line_with_its_growth_and_restarts() -> None:
    assert report().growth() == {"nats-server": 25.0, "intake": 0.0}
    assert report().total_growth() == growth_pct(245_760, 256_000)
    lines = report_text(report()).splitlines()
    assert "10 min at 50 calls/s (achieved 49.9/s)" in lines[0]
    assert lines[1] == (
        "calls: sent 30000, accepted 30000, errors 0, fully processed 30000 (29000 when the load ended, 12 s before), "
        "dead letters 0"
    )
    assert lines[3].split() == ["nats-server", "40.0", "50.0", "+25.0", "0"]
    assert lines[4].split() == ["intake", "200.0", "200.0", "+0.0", "1"]
    assert lines[5].split() == ["all", "240.0", "250.0", "+4.2"]


def test_calls_left_unfinished_are_counted_by_the_step_they_lack() -> None:
    stalled = report()
    stalled.fully_processed = 29_990
    stalled.unfinished = {"status received": 7, "no clocks": 3}
    lines = report_text(stalled).splitlines()
    assert lines[2] == "not fully processed: no clocks 3, status received 7"
    assert lines[4].split()[0] == "nats-server"  # the table follows


def test_a_process_gone_by_the_end_says_so() -> None:
    gone = report()
    gone.rss_end_kib.pop("intake")
    assert report_text(gone).splitlines()[4].split()[:3] == ["intake", "200.0", "gone"]


def test_rss_is_read_from_proc() -> None:
    own = rss_kib(os.getpid())
    assert own is not None and own > 1000
    assert rss_kib(2**22 + 1) is None  # beyond pid_max: no such process
