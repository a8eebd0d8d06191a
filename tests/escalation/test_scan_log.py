"""An overrunning deadline scan is skipped quietly; APScheduler's other warnings still reach the log."""

from __future__ import annotations

import logging

import pytest

from hotline.services.escalation.app import quiet_overrun_scans


def test_only_the_skipped_overrun_warning_is_dropped(caplog: pytest.LogCaptureFixture) -> None:
    quiet_overrun_scans()
    quiet_overrun_scans()  # the service's app may be built more than once: one filter all the same
    scheduler_log = logging.getLogger("apscheduler.scheduler")
    assert len(scheduler_log.filters) == len(set(map(id, scheduler_log.filters)))
    with caplog.at_level(logging.WARNING, logger="apscheduler.scheduler"):
        scheduler_log.warning(
            'Execution of job "%s" skipped: maximum number of running instances reached (%d)', "scan", 1
        )
        scheduler_log.warning("Run time of job %s was missed by %s", "scan", "0:00:03")
    assert [r.getMessage() for r in caplog.records] == ["Run time of job scan was missed by 0:00:03"]
