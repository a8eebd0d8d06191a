"""Counts kept by differences, for every rollup (the statistics', shared/rollups.py; the
派单准确率's, shared/dispatch_rollups.py).

A members table keeps, per case, what the case adds to the counts now (its "contribution": the rollup
rows it counts in and what it counts there). A refresh computes each case's contribution afresh from
the store and adds only the difference between the new and the kept one; so a case refreshed twice,
or after events that came late or out of order, changes nothing the second time, and a recount from
the store gives the same rows as the incremental path.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any, Protocol

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.shared.db import CaseRow

REBUILD_CHUNK = 5000


class Contribution(Protocol):
    """What one case adds: the keys of the rollup rows it counts in, and a count per counter."""

    def rollup_keys(self) -> list[Any]: ...

    def counts(self) -> tuple[int, ...]: ...


Change = tuple[Contribution | None, Contribution | None, uuid.UUID]  # old, new, the case


def differences(changes: Iterable[tuple[Contribution | None, Contribution | None]]) -> dict[Any, list[int]]:
    """What to add to each rollup row when cases go from their old contributions to their new ones."""
    # Signed tallies of each distinct count vector per row first, expanded once at the end: a batch's
    # cases mostly share their vectors, and a row a case leaves and re-enters alike cancels out.
    tallies: dict[Any, dict[tuple[int, ...], int]] = {}
    for old, new in changes:
        if old == new:
            continue
        for facts, sign in ((old, -1), (new, 1)):
            if facts is None:
                continue
            counts = facts.counts()
            for key in facts.rollup_keys():
                by_counts = tallies.get(key)
                if by_counts is None:
                    tallies[key] = {counts: sign}
                else:
                    by_counts[counts] = by_counts.get(counts, 0) + sign
    total: dict[Any, list[int]] = {}
    for key, by_counts in tallies.items():
        row: list[int] | None = None
        for counts, times in by_counts.items():
            if not times:
                continue
            if row is None:
                row = [0] * len(counts)
            for index, value in enumerate(counts):
                row[index] += times * value
        if row is not None and any(row):
            total[key] = row
    return total


def upsert(
    session: AsyncSession, table: Any, keys: Sequence[str], *, adding: Sequence[str] = (), replacing: Sequence[str] = ()
) -> Any:
    """INSERT … ON CONFLICT (keys) DO UPDATE: the `adding` columns add the offered value to the row's,
    the `replacing` columns take the offered value."""
    return _upsert(session.get_bind().dialect.name, table, tuple(keys), tuple(adding), tuple(replacing))


@lru_cache(maxsize=32)
def _upsert(
    dialect: str, table: Any, keys: tuple[str, ...], adding: tuple[str, ...], replacing: tuple[str, ...]
) -> Any:
    # Built once per table and columns: building it (its `excluded` alias, then its cache key) on
    # every batch was 7 % of the feed's samples in a py-spy profile at 100 calls/s; a statement is
    # immutable, so one serves every execution. On the table, not the mapped class: the ORM's bulk
    # path walks every row again in Python and builds a statement per batch.
    core = getattr(table, "__table__", table)
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        statement: Any = pg_insert(core)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(core)
    excluded = statement.excluded
    updates = {name: core.c[name] + excluded[name] for name in adding}
    updates.update({name: excluded[name] for name in replacing})
    return statement.on_conflict_do_update(index_elements=list(keys), set_=updates)


def rollup_row(
    columns: Sequence[str], counters: Sequence[str], key: Sequence[Any], counts: Sequence[int]
) -> dict[str, Any]:
    return {**dict(zip(columns, key, strict=True)), **dict(zip(counters, counts, strict=True))}


async def apply(
    session: AsyncSession,
    changed: Sequence[Change],
    *,
    rollups: Any,
    key: Sequence[str],
    counters: Sequence[str],
    members: Any,
) -> None:
    """Adds the differences of `changed` to the `rollups` table and keeps the new contributions in
    `members` (its columns: case_id and the contribution's fields); in the caller's transaction."""
    deltas = differences((old, new) for old, new, _ in changed)
    if deltas:
        # One lock order for every writer: rows sorted by key.
        rows = [rollup_row(key, counters, k, counts) for k, counts in sorted(deltas.items())]
        await session.execute(upsert(session, rollups, key, adding=counters), rows)
    now = [{"case_id": case_id, **vars(new)} for _, new, case_id in changed if new is not None]
    if now:
        columns = [c for c in now[0] if c != "case_id"]
        await session.execute(upsert(session, members, ("case_id",), replacing=columns), now)
    gone = [case_id for _, new, case_id in changed if new is None]
    if gone:
        await session.execute(delete(members).where(members.case_id.in_(gone)))


async def rebuild(
    session: AsyncSession, tables: Sequence[Any], refresh: Callable[[AsyncSession, list[uuid.UUID]], Awaitable[int]]
) -> int:
    """Empties a rollup's `tables` and refreshes every case on file, a chunk at a time in id order (in
    the caller's transaction); returns how many cases added something."""
    for table in tables:
        await session.execute(delete(table))
    counted, after = 0, None
    while True:
        statement = select(CaseRow.id).order_by(CaseRow.id).limit(REBUILD_CHUNK)
        if after is not None:
            statement = statement.where(CaseRow.id > after)
        chunk = list((await session.scalars(statement)).all())
        if not chunk:
            return counted
        counted += await refresh(session, chunk)
        after = chunk[-1]
