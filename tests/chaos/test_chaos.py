"""The chaos suite: faults struck at a running system (loopback only, bounded in time).

Short by default (scripts/test runs it): one fault of each kind, 40 calls each, the database cut and
the JetStream store full for 10 s (calls keep coming, and retrying, all through it). `pytest
--chaos-long` posts 300 calls per fault and holds each outage for 30 s. The database fault needs
PostgreSQL (a TCP proxy in front of it is cut); without one it is skipped loudly and the NATS faults
run on SQLite.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.chaos import FAULTS, run_faults
from hotline.chaos_checks import table

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(600)]


def print_logs(data_dir: Path) -> None:
    for log in sorted((data_dir / "logs").glob("*.log")):
        print(f"===== {log.name} =====\n{log.read_text(errors='replace')[-3000:]}")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_every_fault_loses_doubles_and_half_makes_nothing(
    database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    long = bool(request.config.getoption("--chaos-long"))
    data_dir = tmp_path / "system"
    results = run_faults(
        FAULTS,
        data_dir=data_dir,
        database_url=database_url,
        n=300 if long else 40,
        rate_per_s=40 if long else 20,
        outage_s=30 if long else 10,
    )
    print(table(results))
    if not all(r.ok for r in results):
        print_logs(data_dir)
    for r in results:
        assert (r.sent, r.stored, r.fully_processed) == (r.sent, r.sent, r.sent), r
        assert (r.lost, r.doubled, r.half_made, r.dead_letters) == (0, 0, 0, 0), r
        assert r.recover_s is not None and r.recover_s <= 30, r
        assert r.healthy, r  # health back to 200 without anyone's help
    assert results[0].nats_restarts == 1, results[0]  # the restart shows on GET /api/v1/health
    store_full, forged = results[2], results[3]
    assert store_full.http_5xx == 0, store_full  # calls are taken while publishing fails
    assert store_full.held_in_outbox, store_full  # ... and their events wait in the outbox
    assert forged.forged > 0 and forged.forged_dead_lettered == forged.forged, forged
    assert forged.forged_rows == 0, forged  # no case, task, clock or case event for any forgery


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_nats_faults_under_sqlite_lose_and_double_nothing(
    database_url: str, tmp_path: Path, request: pytest.FixtureRequest, pg_missing: str | None
) -> None:
    """The NATS faults on the default database (in the short run only where no PostgreSQL answers,
    to stay within three minutes)."""
    if pg_missing is None and not request.config.getoption("--chaos-long"):
        pytest.skip("PostgreSQL answers: the NATS faults ran against it above (--chaos-long runs both)")
    faults = tuple(f for f in FAULTS if f != "db-outage")
    results = run_faults(faults, data_dir=tmp_path / "system", database_url=database_url, n=40, outage_s=20)
    print(table(results))
    for result in results:
        assert result.ok, result
        assert result.recover_s is not None and result.recover_s <= 30
