"""End-to-end fixtures: the real service processes on a real nats-server, through the supervisor."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from hotline.natsserver import EmbeddedNats, free_port
from hotline.supervisor import SERVICE_MODULES, Supervisor
from tests.conftest import migrated_database

SystemFactory = Callable[..., Supervisor]
ADMIN_PASSWORD = "e2e-admin-password"


def _supervisor(data_dir: Path, nats_url: str, database_url: str, services: tuple[str, ...], **env: str) -> Supervisor:
    environment = {
        **os.environ,
        "NATS_URL": nats_url,
        "DATABASE_URL": database_url,
        "HOTLINE_LOG_LEVEL": "INFO",
        "HOTLINE_ADMIN_PASSWORD": ADMIN_PASSWORD,
        **env,
    }
    return Supervisor(
        data_dir=data_dir, http_port=free_port(), env=environment, services=services, restart=False, quiet=False
    )


def _start(supervisor: Supervisor) -> Supervisor:
    supervisor.start()
    if "intake" in supervisor.children:
        supervisor.wait_healthy(timeout_s=60 * SLOWNESS)
    return supervisor


def _logs(supervisor: Supervisor) -> str:
    return "".join(
        f"===== {log.name} =====\n{log.read_text(errors='replace')[-4000:]}\n"
        for log in sorted(supervisor.logs.glob("*.log"))
    )


@pytest.fixture
def start_system(
    tmp_path: Path, nats_server: EmbeddedNats, database_url: str, request: pytest.FixtureRequest
) -> Iterator[SystemFactory]:
    """Starts a system of its own for the test: for a test that changes what every case sees (the routing
    table, the calendar), kills a part, counts everything (dead letters, the dashboard's totals) or needs
    its own settings. Tests that only work on their own cases and users take `shared_system`."""
    started: list[Supervisor] = []

    def start(*, services: tuple[str, ...] = tuple(SERVICE_MODULES), **env: str) -> Supervisor:
        supervisor = _supervisor(tmp_path / "system", nats_server.url, database_url, services, **env)
        started.append(supervisor)
        return _start(supervisor)

    yield start
    for supervisor in started:
        supervisor.stop()
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        for supervisor in started:
            print(_logs(supervisor))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`shared_system` runs once per module and database: `SHARED_SYSTEM_DATABASES` in a module narrows
    the kinds (default: SQLite and PostgreSQL)."""
    if "shared_system" in metafunc.fixturenames:
        kinds = getattr(metafunc.module, "SHARED_SYSTEM_DATABASES", ("sqlite", "postgresql"))
        params = [pytest.param(k, marks=pytest.mark.postgres) if k == "postgresql" else k for k in kinds]
        metafunc.parametrize("shared_system", params, indirect=True, scope="module")


@pytest.fixture(scope="module")
def shared_system(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Supervisor]:
    """One running system (nats-server and every service) for the tests of a module on one database:
    starting them costs seconds per test on a 2-core machine. A test on it creates its own cases and
    users (names unique in the module) and judges only those, never totals, and leaves every part
    running. Calls are never linked as repeats here (HOTLINE_REPEAT_WINDOW_DAYS=0), so tests posting the
    same caller stay apart."""
    kind: str = request.param
    directory = tmp_path_factory.mktemp(f"shared-{kind}")
    server = EmbeddedNats(directory / "nats", sync_always=True, log_file=directory / "nats.log")
    server.start()
    try:
        with migrated_database(kind, directory / "db", request) as database_url:
            supervisor = _supervisor(
                directory / "system", server.url, database_url, tuple(SERVICE_MODULES), HOTLINE_REPEAT_WINDOW_DAYS="0"
            )
            try:
                yield _start(supervisor)
            finally:
                supervisor.stop()
    finally:
        server.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{report.when}", report)
    shared = getattr(item, "funcargs", {}).get("shared_system")
    if report.failed and isinstance(shared, Supervisor):  # the shared system outlives the test: its logs now
        report.sections.append(("shared system logs", _logs(shared)))


# A loaded 2-core machine (CI beside another suite) can be several times slower than a quiet one:
# ceilings are generous and scale with HOTLINE_TEST_SLOWNESS; they bound a hang, they are not a benchmark.
SLOWNESS = float(os.environ.get("HOTLINE_TEST_SLOWNESS", "3"))


def wait_until(condition: Callable[[], Any], *, timeout_s: float = 30, what: str = "condition") -> Any:
    ceiling = timeout_s * SLOWNESS
    deadline = time.monotonic() + ceiling
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out after {ceiling:.0f}s waiting for {what}")


def wait_for_progress(measure: Callable[[], int], *, target: int, stall_s: float = 60, what: str = "progress") -> int:
    """Wait until `measure()` reaches `target`, failing only when it stops moving for `stall_s`
    (times SLOWNESS): a slow machine that keeps making progress is not a failure."""
    stall = stall_s * SLOWNESS
    best, last_move = -1, time.monotonic()
    while True:
        value = measure()
        if value >= target:
            return value
        if value > best:
            best, last_move = value, time.monotonic()
        elif time.monotonic() - last_move > stall:
            raise AssertionError(f"{what}: stuck at {value}/{target} for {stall:.0f}s")
        time.sleep(0.2)


@contextmanager
def client_for(
    supervisor: Supervisor, *, username: str = "admin", password: str = ADMIN_PASSWORD
) -> Iterator[httpx.Client]:
    """An HTTP client logged in as `username` (the admin by default)."""
    with httpx.Client(base_url=supervisor.url, timeout=10) as client:
        response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
        response.raise_for_status()
        client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        yield client
