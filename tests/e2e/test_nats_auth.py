"""`hotline up`'s own nats-server requires credentials: each service connects as its own user,
anonymous clients are refused and a service cannot publish another's events."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest

from hotline.natsauth import CREDENTIALS_FILE
from hotline.natsserver import free_port
from hotline.shared import subjects
from hotline.supervisor import Supervisor
from tests.e2e.conftest import ADMIN_PASSWORD, SLOWNESS, client_for, wait_until
from tests.e2e.test_pipeline import CALL, routed_case


@pytest.fixture
def system(tmp_path: Path) -> Iterator[Supervisor]:
    env = {k: v for k, v in os.environ.items() if k not in ("NATS_URL", "DATABASE_URL")}
    env.update(HOTLINE_LOG_LEVEL="INFO", HOTLINE_ADMIN_PASSWORD=ADMIN_PASSWORD)
    supervisor = Supervisor(
        data_dir=tmp_path / "system", http_port=free_port(), env=env, restart=False, nats_port=free_port()
    )
    try:
        supervisor.start()
        supervisor.wait_healthy(timeout_s=60 * SLOWNESS)
        yield supervisor
    finally:
        supervisor.stop()


def routed_count(url: str) -> int:
    async def run() -> int:
        nc = await nats.connect(url)
        info = await nc.jetstream().stream_info(subjects.CASES_STREAM, subjects_filter=subjects.CASE_ROUTED)
        await nc.close()
        return sum((info.state.subjects or {}).values())

    return asyncio.run(run())


def test_the_system_runs_with_nats_credentials_and_per_service_permissions(system: Supervisor) -> None:
    assert system.nats is not None and system.nats.users
    credentials = system.data_dir / CREDENTIALS_FILE
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    # (a) The whole pipeline works, each service under its own user.
    with client_for(system) as client:
        response = client.post("/api/v1/calls", json=CALL)
        assert response.status_code == 201, response.text
        wait_until(lambda: routed_case(client, response.json()["id"]), what="the call routed and tracked")
    admin_url = system.env["NATS_URL"]
    before = routed_count(admin_url)
    assert before == 1

    # (b) No credentials, no connection.
    async def anonymous() -> None:
        nc = await nats.connect(system.nats.url, allow_reconnect=False, connect_timeout=5)  # type: ignore[union-attr]
        await nc.close()

    with pytest.raises(Exception, match=r"(?i)authorization"):
        asyncio.run(anonymous())

    # (c) The classifier's user cannot publish what only the router may.
    async def as_classifier() -> list[str]:
        errors: list[str] = []

        async def on_error(exc: Exception) -> None:
            errors.append(str(exc))

        nc = await nats.connect(system.nats.url_for("classifier"), error_cb=on_error)  # type: ignore[union-attr]
        await nc.publish(subjects.CASE_ROUTED, b"{}")
        await nc.publish(subjects.CASE_CLASSIFIED + ".probe", b"{}")  # not in its grants either
        await nc.flush()
        for _ in range(int(200 * SLOWNESS)):  # a ceiling: the server answers within milliseconds
            if len(errors) >= 2:
                break
            await asyncio.sleep(0.05)
        await nc.close()
        return errors

    errors = asyncio.run(as_classifier())
    assert any("permissions violation" in e.lower() and subjects.CASE_ROUTED in e for e in errors), errors
    assert routed_count(admin_url) == before
