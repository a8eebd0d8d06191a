"""Bulk loading for the benchmarks: rows straight through the database driver, past the ORM and
SQLAlchemy's per-row processing, so that millions of cases load in minutes (SQLite: executemany of
the stored text forms SQLAlchemy itself writes; PostgreSQL: COPY). Every column must be given."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

# A bigger page cache for the load (the default 2 MB makes every index insert a disk read at millions).
SQLITE_CACHE_KIB = 262_144


def _stored_time(value: datetime | None) -> str | None:
    # isoformat, not strftime: several times faster by the million; UTC as SQLAlchemy stores it.
    return None if value is None else value.astimezone(UTC).isoformat(" ", "microseconds")[:26]


def _stored_json(value: Any) -> str:
    return "[]" if value == [] else "{}" if value == {} else json.dumps(value)


def _sqlite_converter(column: Any) -> Callable[[Any], Any]:
    """The form SQLAlchemy stores a column's values in on SQLite, chosen once per column."""
    kind = type(column.type).__name__
    if kind == "Uuid":
        return lambda value: None if value is None else value.hex
    if kind == "UtcDateTime":
        return _stored_time
    if kind == "Date":
        return lambda value: None if value is None else value.isoformat()
    if kind == "JSON":
        return _stored_json
    if kind == "Boolean":
        return lambda value: None if value is None else int(value)
    return lambda value: value


def _postgres_value(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, dict | list) else value


async def bulk_insert(session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Inserts `rows` (each with every column of `table`) in the session's transaction."""
    if not rows:
        return
    columns = [column.name for column in table.columns]
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    if connection.dialect.name == "postgresql":
        records = [tuple(_postgres_value(row[name]) for name in columns) for row in rows]
        await driver.copy_records_to_table(table.name, records=records, columns=columns)
        return
    await driver.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    converters = [(column.name, _sqlite_converter(column)) for column in table.columns]
    marks = ", ".join("?" for _ in columns)
    statement = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"
    await driver.executemany(statement, [tuple(convert(row[name]) for name, convert in converters) for row in rows])


async def settle(engine: AsyncEngine) -> None:
    """What autovacuum would do after such a load on PostgreSQL (statistics for the planner, the
    visibility map for index-only scans); nothing on SQLite, which runs no ANALYZE in service either."""
    if engine.dialect.name != "postgresql":
        return
    async with engine.connect() as connection:
        await (await connection.execution_options(isolation_level="AUTOCOMMIT")).execute(text("VACUUM ANALYZE"))
