"""Fixtures shared by the whole suite: a real nats-server per test, and databases (SQLite always,
PostgreSQL when one answers on 127.0.0.1:5432; its tests are skipped with a loud reason otherwise)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from hotline.natsserver import EmbeddedNats
from hotline.shared.migrate import upgrade

PG_HOST = os.environ.get("HOTLINE_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("HOTLINE_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("HOTLINE_TEST_PG_USER", "postgres")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--chaos-long", action="store_true", default=False, help="the long chaos suite")


@pytest.fixture
def pg_missing() -> str | None:
    """Why PostgreSQL cannot be used (None when it answers)."""
    return _postgres_reachable()


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[EmbeddedNats]:
    """A fresh nats-server with JetStream on a random port, fsyncing every write."""
    server = EmbeddedNats(tmp_path / "nats", sync_always=True, log_file=tmp_path / "nats.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def _pg_admin(statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres", timeout=3)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _postgres_reachable() -> str | None:
    try:
        asyncio.run(_pg_admin("SELECT 1"))
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.fixture(scope="session")
def postgres_available() -> None:
    problem = _postgres_reachable()
    if problem is not None:
        pytest.skip(f"!!! PostgreSQL NOT reachable on {PG_HOST}:{PG_PORT} ({problem}): PostgreSQL tests SKIPPED")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated once per session: each test gets a copy instead of running every migration."""
    path = tmp_path_factory.mktemp("template") / "hotline.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_available: None) -> Iterator[str]:
    """A PostgreSQL database migrated once per session, the template of each test's database."""
    name = f"hotline_template_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        upgrade(f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}")
        yield name
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def drop_later() -> Iterator[Callable[[str], None]]:
    """Drops PostgreSQL databases on a background thread (a drop takes a second or two of the server's
    time, not the test's); the session waits for every drop, and fails on one that failed."""
    dropping: list[Future[None]] = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-drop") as pool:
        yield lambda name: dropping.append(
            pool.submit(lambda: asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')))
        )
    for future in dropping:
        future.result()


@contextmanager
def migrated_database(kind: str, directory: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A new database at the newest schema revision, copied from the session's migrated template (the
    same schema `upgrade` gives, in a fraction of the time); PostgreSQL's is dropped afterwards."""
    if kind == "sqlite":
        path = directory / "hotline.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        template: Path = request.getfixturevalue("sqlite_template")
        with closing(sqlite3.connect(template)) as source, closing(sqlite3.connect(path)) as target:
            source.backup(target)
        yield f"sqlite+aiosqlite:///{path}"
        return
    template_name: str = request.getfixturevalue("postgres_template")
    drop: Callable[[str], None] = request.getfixturevalue("drop_later")
    name = f"hotline_test_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"'))
    try:
        yield f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        drop(name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of each kind."""
    with migrated_database(request.param, tmp_path, request) as url:
        yield url


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[object]:
    from hotline.shared.db import create_engine, session_factory

    engine = create_engine(database_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


_REAL_PARTS = {"nats_server", "database_url", "sessions", "start_system"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tier markers by what a test needs (a `pytestmark` in a conftest marks nothing):
    `e2e` (service processes), `browser` (headless chromium), `integration` (a real nats-server or
    database), `unit` (pure code). `-m unit` runs in seconds."""
    for item in items:
        parts = item.path.parts
        if "e2e" in parts:
            item.add_marker(pytest.mark.e2e)
        elif "console" in parts:
            item.add_marker(pytest.mark.browser)
        elif _REAL_PARTS & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)
        else:
            item.add_marker(pytest.mark.unit)
