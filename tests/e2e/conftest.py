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

SystemFactory = Callable[..., Supervisor]
ADMIN_PASSWORD = "e2e-admin-password"


@pytest.fixture
def start_system(
    tmp_path: Path, nats_server: EmbeddedNats, database_url: str, request: pytest.FixtureRequest
) -> Iterator[SystemFactory]:
    started: list[Supervisor] = []

    def start(*, services: tuple[str, ...] = tuple(SERVICE_MODULES), **env: str) -> Supervisor:
        environment = {
            **os.environ,
            "NATS_URL": nats_server.url,
            "DATABASE_URL": database_url,
            "HOTLINE_LOG_LEVEL": "INFO",
            "HOTLINE_ADMIN_PASSWORD": ADMIN_PASSWORD,
            **env,
        }
        supervisor = Supervisor(
            data_dir=tmp_path / "system",
            http_port=free_port(),
            env=environment,
            services=services,
            restart=False,
            quiet=False,
        )
        started.append(supervisor)
        supervisor.start()
        if "intake" in services:
            supervisor.wait_healthy(timeout_s=60 * SLOWNESS)
        return supervisor

    yield start
    for supervisor in started:
        supervisor.stop()
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        for supervisor in started:
            for log in sorted(supervisor.logs.glob("*.log")):
                print(f"===== {log.name} =====\n{log.read_text(errors='replace')[-4000:]}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{report.when}", report)


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
