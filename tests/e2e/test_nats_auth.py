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
from nats.js.api import ConsumerConfig, StreamConfig

from hotline.natsauth import CREDENTIALS_FILE, load_or_create_credentials
from hotline.natsserver import EmbeddedNats, free_port
from hotline.provision import declare_streams_at
from hotline.shared import subjects
from hotline.shared.messaging import declare_streams
from hotline.shared.nats_permissions import ADMIN_USER
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
    # ... and no service needed anything its grants deny (their JetStream API is held to their own
    # consumers; the streams were declared by the supervisor as the admin).
    violations = [line for line in (system.logs / "nats-server.log").read_text().splitlines() if "Violation" in line]
    assert not violations, violations

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


def test_a_service_user_cannot_delete_streams_or_take_another_services_consumer(tmp_path: Path) -> None:
    """The JetStream API is held to each service's own consumers: the router runs its durable, but
    cannot delete a stream, create one, or create (take over) the classifier's durable."""
    users = load_or_create_credentials(tmp_path)
    with EmbeddedNats(tmp_path / "nats", users=users, log_file=tmp_path / "nats.log") as server:
        declare_streams_at(server.url_for(ADMIN_USER), replicas=1)  # the provisioning step

        async def as_router() -> dict[str, str]:
            denied: dict[str, str] = {}
            admin = await nats.connect(server.url_for(ADMIN_USER))
            await admin.jetstream().publish(subjects.CASE_CLASSIFIED, b"{}")
            await admin.close()
            nc = await nats.connect(server.url_for("router"), error_cb=_ignore)
            js = nc.jetstream(timeout=10 * SLOWNESS)
            # Its own durable: created, pulled from, acknowledged.
            await js.add_consumer(
                subjects.CASES_STREAM,
                ConsumerConfig(durable_name=subjects.ROUTER_DURABLE, filter_subject=subjects.CASE_CLASSIFIED),
            )
            pull = await js.pull_subscribe_bind(subjects.ROUTER_DURABLE, subjects.CASES_STREAM)
            [msg] = await pull.fetch(1, timeout=10 * SLOWNESS)
            await msg.ack_sync(timeout=10 * SLOWNESS)
            await nc.close()
            for what, attempt in (
                ("delete stream", lambda js: js.delete_stream(subjects.CASES_STREAM)),
                ("purge stream", lambda js: js.purge_stream(subjects.CASES_STREAM)),
                ("create stream", lambda js: js.add_stream(StreamConfig(name="MINE", subjects=["mine.>"]))),
                (
                    "take the classifier's durable",
                    lambda js: js.add_consumer(
                        subjects.CASES_STREAM,
                        ConsumerConfig(durable_name=subjects.CLASSIFIER_DURABLE, filter_subject=subjects.CASE_RECEIVED),
                    ),
                ),
            ):
                nc = await nats.connect(server.url_for("router"), error_cb=_ignore)
                js = nc.jetstream(timeout=SLOWNESS)
                try:
                    await attempt(js)
                except Exception as exc:  # the server answers nothing to a denied request: a timeout
                    denied[what] = type(exc).__name__
                await nc.close()
            return denied

        async def as_admin() -> tuple[list[str], set[str]]:
            nc = await nats.connect(server.url_for(ADMIN_USER))
            js = nc.jetstream()
            streams = sorted(await js.streams_info(), key=lambda s: s.config.name or "")
            consumers = {c.name for c in await js.consumers_info(subjects.CASES_STREAM)}
            await nc.close()
            return [s.config.name or "" for s in streams], consumers

        denied = asyncio.run(as_router())
        assert set(denied) == {"delete stream", "purge stream", "create stream", "take the classifier's durable"}, (
            denied
        )
        streams, consumers = asyncio.run(as_admin())
        assert streams == sorted(subjects.STREAMS)  # none deleted, none created
        assert consumers == {subjects.ROUTER_DURABLE}
        log = (tmp_path / "nats.log").read_text(errors="replace")
        for denied_subject in ("$JS.API.STREAM.DELETE.CASES", f"CREATE.CASES.{subjects.CLASSIFIER_DURABLE}"):
            assert any("Publish Violation" in line and denied_subject in line for line in log.splitlines()), log


async def _ignore(exc: Exception) -> None:
    """The permission violations the test provokes (reported asynchronously by the server)."""


def test_a_service_started_before_the_streams_waits_for_the_provisioning_step(tmp_path: Path) -> None:
    """A service under credentials may not create the streams: it is refused, keeps asking, and goes
    on once the admin has declared them (`hotline init` on a cluster)."""
    users = load_or_create_credentials(tmp_path)
    log = tmp_path / "nats.log"
    with EmbeddedNats(tmp_path / "nats", users=users, log_file=log) as server:

        def refused() -> bool:
            text = log.read_text(errors="replace") if log.exists() else ""
            return "Publish Violation" in text and "$JS.API.STREAM.CREATE.CASES" in text

        async def run() -> bool:
            nc = await nats.connect(server.url_for("classifier"), error_cb=_ignore)
            try:
                waiting = asyncio.create_task(
                    declare_streams(nc.jetstream(timeout=0.5), scale=False), name="classifier streams"
                )
                for _ in range(int(200 * SLOWNESS)):  # a ceiling: the first refusal comes within a second
                    if refused():
                        break
                    await asyncio.sleep(0.05)
                assert refused() and not waiting.done()
                await asyncio.to_thread(declare_streams_at, server.url_for(ADMIN_USER), replicas=1)
                await asyncio.wait_for(waiting, timeout=30 * SLOWNESS)
                return waiting.done()
            finally:
                await nc.close()

        assert asyncio.run(run())
