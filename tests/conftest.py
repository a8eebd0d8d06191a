"""Fixtures shared by the whole suite: a real nats-server per test, and databases (SQLite always,
PostgreSQL when one answers on 127.0.0.1:5432; its tests are skipped with a loud reason otherwise)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
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


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}"
        upgrade(url)
        yield url
        return
    request.getfixturevalue("postgres_available")
    name = f"hotline_test_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    url = f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


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
