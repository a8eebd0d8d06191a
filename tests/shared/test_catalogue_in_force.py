"""The 派单目录 in force is the newest version of this database: read once per version, never mixed
up with another database's version of the same number, and a new version is in force at once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from hotline.shared.catalogue import PACKAGED_VERSION, current, packaged
from hotline.shared.db import RoutingTableRow, create_engine, session_factory, transaction
from tests.sqlite_plans import migrated_copy

SAVED = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)


def _renamed(name: str) -> str:
    return packaged().content.replace('name = "县住建局"', f'name = "{name}"', 1)


async def _save_then_read(database: Path, content: str) -> str:
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    sessions = session_factory(engine)
    try:
        async with transaction(sessions) as session:
            session.add(RoutingTableRow(content=content, created_by="admin", created_at=SAVED))
        async with sessions() as session:
            catalogue = await current(session)
            assert catalogue is await current(session)  # read once, then kept
        return catalogue.county.units["zjj"].name
    finally:
        await engine.dispose()


async def test_each_database_has_its_own_version_one(sqlite_template: Path, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    first, second = migrated_copy(sqlite_template, tmp_path / "a"), migrated_copy(sqlite_template, tmp_path / "b")
    assert await _save_then_read(first, _renamed("县住房和城乡建设局")) == "县住房和城乡建设局"
    assert await _save_then_read(second, _renamed("县住建和交通局")) == "县住建和交通局"
    # And a newer version of the first is in force at once.
    assert await _save_then_read(first, _renamed("县城乡建设局")) == "县城乡建设局"


async def test_the_packaged_table_until_an_admin_saves_one(sqlite_template: Path, tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{migrated_copy(sqlite_template, tmp_path)}")
    try:
        async with session_factory(engine)() as session:
            assert (await current(session)).version == PACKAGED_VERSION
    finally:
        await engine.dispose()
