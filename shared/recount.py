"""`hotline rollups rebuild` and the recount at every start of the system: every rollup (the
statistics', shared/rollups.py; the 派单准确率's, shared/dispatch_rollups.py) counted afresh from the
store."""

from __future__ import annotations

from hotline.shared import dispatch_rollups, rollups
from hotline.shared.db import create_engine, session_factory, transaction


async def rebuild_database(database_url: str, *, only_if_missing: bool = False) -> dict[str, int]:
    """One transaction, so readers see the old counts until the new ones are complete; the feed
    service waits for it (on SQLite it holds the write lock meanwhile). With `only_if_missing` (every
    start of the system) a rollup is recounted only when its `missing` says so. Returns what was
    recounted: "cases" (the statistics'), "first_routings" (the 派单准确率's); empty when nothing."""
    engine = create_engine(database_url)
    recounted: dict[str, int] = {}
    try:
        async with transaction(session_factory(engine)) as session:
            if not only_if_missing or await rollups.missing(session):
                recounted["cases"] = await rollups.rebuild(session)
            if not only_if_missing or await dispatch_rollups.missing(session):
                recounted["first_routings"] = await dispatch_rollups.rebuild(session)
    finally:
        await engine.dispose()
    return recounted


def described(recounted: dict[str, int], verb: str = "重算") -> str:
    """What `rebuild_database` did, as the CLI and the supervisor say it."""
    parts = []
    if "cases" in recounted:
        parts.append(f"统计汇总已按案件表{verb}：{recounted['cases']} 件案件")
    if "first_routings" in recounted:
        parts.append(f"派单准确率已按任务表{verb}：{recounted['first_routings']} 件案件的首次派单")
    return "；".join(parts)
