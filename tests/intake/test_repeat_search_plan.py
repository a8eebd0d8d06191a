"""The repeat search reads a phone's or a township's cases by their own index, not the channel's.

SQLite plans without statistics (nobody runs ANALYZE): given two indexes that fit a query equally
well it may take either. When it took (channel, received_at) for the same-phone search, every call
read all of the channel's cases of the last 30 days (5.5 ms at 20,000 cases, and growing).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine, event
from sqlalchemy.sql import Select

from hotline.services.intake.cases import _SAME_PHONE, _TOWNSHIP_OPEN
from hotline.shared.migrate import alembic_config
from tests.sqlite_plans import migrated_copy


def _plan(database: Path, statement: Select[Any], params: dict[str, Any]) -> str:
    engine = create_engine(f"sqlite:///{database}")

    @event.listens_for(engine, "before_cursor_execute", retval=True)
    def explain(_conn: Any, _cursor: Any, sql: str, parameters: Any, _context: Any, _many: bool) -> Any:
        return f"EXPLAIN QUERY PLAN {sql}", parameters

    try:
        with engine.connect() as connection:
            rows = connection.execute(statement, params).cursor.fetchall()  # type: ignore[attr-defined]
    finally:
        engine.dispose()
    return " | ".join(str(row[-1]) for row in rows)


@pytest.fixture
def database(sqlite_template: Path, tmp_path: Path) -> Path:
    return migrated_copy(sqlite_template, tmp_path)


SINCE = datetime(2026, 11, 1, tzinfo=UTC) - timedelta(days=30)


def test_the_same_phone_search_reads_the_phone_index(database: Path) -> None:
    plan = _plan(database, _SAME_PHONE, {"channel": "hotline", "since": SINCE, "phone": "13900000001"})
    assert "ix_cases_phone_channel_received (phone=? AND channel=? AND received_at>?)" in plan, plan


def test_the_township_search_reads_the_township_index(database: Path) -> None:
    params = {"channel": "hotline", "since": SINCE, "township": "城关镇", "limit": 500}
    plan = _plan(database, _TOWNSHIP_OPEN, params)
    assert "ix_cases_township_channel_received (township=? AND channel=? AND received_at>?)" in plan, plan


def _indexes(database: Path) -> set[str]:
    with closing(sqlite3.connect(database)) as connection:
        return {row[1] for row in connection.execute("PRAGMA index_list(cases)")}


def test_the_migration_goes_down_and_up_again(database: Path) -> None:
    config = alembic_config(f"sqlite+aiosqlite:///{database}")
    new = {"ix_cases_phone_channel_received", "ix_cases_township_channel_received"}
    old = {"ix_cases_phone_received", "ix_cases_township_received"}
    command.downgrade(config, "0019")
    assert old <= _indexes(database) and not new & _indexes(database)
    command.upgrade(config, "head")
    assert new <= _indexes(database) and not old & _indexes(database)
    params = {"channel": "hotline", "since": SINCE, "phone": "13900000001"}
    assert "ix_cases_phone_channel_received" in _plan(database, _SAME_PHONE, params)
