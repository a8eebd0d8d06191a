"""A province on a real cluster: a 3-node NATS JetStream cluster (streams with 3 replicas), PostgreSQL
and two replicas of every service sharing their durable consumers. One NATS node and one replica of
every service are killed with SIGKILL mid-stream; every case must still be received, classified,
routed and tracked, with a unit and exactly one task, and no event may exist twice.

Run it alone with `pytest -m cluster` (about a minute on a quiet 2-core machine).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import nats
import pytest
from nats.js import JetStreamContext
from nats.js.api import StreamConfig
from sqlalchemy import func, select

from hotline.natscluster import NatsCluster
from hotline.natsserver import free_port
from hotline.proc import die_with_parent
from hotline.shared import subjects
from hotline.shared.db import CaseEventRow, CaseRow, TaskRow, create_engine, session_factory
from hotline.shared.messaging import declare_streams
from hotline.supervisor import SERVICE_MODULES
from tests.conftest import PG_HOST, PG_PORT, PG_USER, _pg_admin
from tests.e2e.conftest import ADMIN_PASSWORD, SLOWNESS, wait_until

pytestmark = [pytest.mark.cluster, pytest.mark.postgres]

N = int(os.environ.get("HOTLINE_CLUSTER_CASES", "120"))  # 200 or more for a longer run
KILL_AFTER = N // 3  # cases sent before the kills; the rest go to the survivors
CHUNK = 20
REPLICAS = 2
PIPELINE = ("received", "classified", "routed", "tracked")
TEXTS = (
    "小区路灯坏了两个多月没人修，晚上出行很不安全",
    "工地拖欠农民工工资三个月，老板一直推脱",
    "学校门口早晚交通拥堵，孩子上下学很危险",
    "楼下餐馆油烟直排扰民，窗户都不敢开",
    "村里自来水管破裂两天了，全村停水",
    "医院挂号排队太久，希望增加窗口",
)


@dataclass
class Replica:
    service: str
    instance: int
    port: int  # intake: its API; the others: /metrics and /health
    process: subprocess.Popen[bytes]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def postgres_url(postgres_available: None) -> Iterator[str]:
    name = f"hotline_cluster_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    url = f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    try:
        yield url
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[NatsCluster]:
    nodes = NatsCluster(tmp_path / "nats", size=3)
    nodes.start()
    try:
        yield nodes
    finally:
        nodes.stop()


@pytest.fixture
def replicas(tmp_path: Path, cluster: NatsCluster, postgres_url: str) -> Iterator[list[Replica]]:
    data_dir = tmp_path / "system"
    (data_dir / "logs").mkdir(parents=True)
    base_env = {
        **os.environ,
        "NATS_URL": cluster.url,
        "DATABASE_URL": postgres_url,
        "HOTLINE_DATA_DIR": str(data_dir),
        "HOTLINE_STREAM_REPLICAS": "3",
        "HOTLINE_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "HOTLINE_REPEAT_WINDOW_DAYS": "0",  # distinct cases, never linked as repeats
        "PYTHONUNBUFFERED": "1",
    }
    # What hotline-init.service does on a real cluster before the services start.
    init = subprocess.run(
        [sys.executable, "-m", "hotline", "init"], env=base_env, capture_output=True, text=True, timeout=120
    )
    assert init.returncode == 0 and "副本数 3" in init.stdout, init.stdout + init.stderr
    started: list[Replica] = []
    for service, module in SERVICE_MODULES.items():
        for instance in range(1, REPLICAS + 1):
            port = free_port()
            env = {
                **base_env,
                "HOTLINE_INSTANCE": str(instance),
                ("HOTLINE_PORT" if service == "intake" else "HOTLINE_METRICS_PORT"): str(port),
            }
            log = open(data_dir / "logs" / f"{service}-{instance}.log", "ab")  # noqa: SIM115
            process = subprocess.Popen(
                [sys.executable, "-m", module],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
            )
            log.close()
            started.append(Replica(service, instance, port, process))
    try:
        yield started
    finally:
        for replica in started:
            if replica.process.poll() is None:
                replica.process.terminate()
        for replica in started:
            try:
                replica.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                replica.process.kill()
                replica.process.wait()
        for path in sorted((data_dir / "logs").glob("*.log")):
            text = path.read_text(errors="replace")
            if "Traceback" in text or "ERROR" in text:
                print(f"===== {path.name} =====\n{text[-3000:]}")


def healthy(replica: Replica) -> bool:
    path = "/api/v1/health" if replica.service == "intake" else "/health"
    try:
        return httpx.get(replica.base + path, timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


def token(intake: Replica) -> str:
    response = httpx.post(
        intake.base + "/api/v1/auth/token", json={"username": "admin", "password": ADMIN_PASSWORD}, timeout=10
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def post_call(intake: Replica, auth: str, i: int) -> str:
    body = {
        "phone": f"139{i:08d}",
        "content": f"{TEXTS[i % len(TEXTS)]}（第{i}号来电）",
        "outcome": "transfer",
    }
    response = httpx.post(intake.base + "/api/v1/calls", json=body, headers={"Authorization": auth}, timeout=30)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def subject_counts(urls: list[str]) -> tuple[dict[str, int], int]:
    """Messages per case subject in the CASES stream, and the stream's replica count."""

    async def run() -> tuple[dict[str, int], int]:
        nc = await nats.connect(urls)
        try:
            info = await nc.jetstream().stream_info(subjects.CASES_STREAM, subjects_filter=subjects.CASE_ALL)
        finally:
            await nc.close()
        return dict(info.state.subjects or {}), info.config.num_replicas or 1

    return asyncio.run(run())


def pipeline_state(database_url: str, case_ids: list[str]) -> dict[str, object]:
    async def run() -> dict[str, object]:
        ids = [uuid.UUID(c) for c in case_ids]
        engine = create_engine(database_url, writes=False)
        try:
            async with session_factory(engine)() as session:
                done = await session.scalar(
                    select(func.count())
                    .select_from(CaseRow)
                    .where(CaseRow.id.in_(ids), CaseRow.status == "tracked", CaseRow.unit_code.is_not(None))
                )
                tasks = dict(
                    (
                        await session.execute(
                            select(TaskRow.case_id, func.count())
                            .where(TaskRow.case_id.in_(ids), TaskRow.role == "lead", TaskRow.state != "reassigned")
                            .group_by(TaskRow.case_id)
                        )
                    ).all()
                )
                events = {
                    kind: (count, distinct)
                    for kind, count, distinct in (
                        await session.execute(
                            select(CaseEventRow.kind, func.count(), func.count(func.distinct(CaseEventRow.case_id)))
                            .where(CaseEventRow.case_id.in_(ids), CaseEventRow.kind.in_(PIPELINE))
                            .group_by(CaseEventRow.kind)
                        )
                    ).all()
                }
        finally:
            await engine.dispose()
        return {"done": done or 0, "tasks": tasks, "events": events}

    return asyncio.run(run())


# ~1 minute on a quiet 2-core machine; the ceiling is for a machine busy with other work.
@pytest.mark.timeout(480)
def test_a_cluster_loses_a_nats_node_and_a_replica_of_every_service_and_loses_nothing(
    cluster: NatsCluster, replicas: list[Replica], postgres_url: str
) -> None:
    began = time.monotonic()

    def mark(what: str) -> None:
        print(f"[cluster test] {time.monotonic() - began:6.1f}s {what}", flush=True)

    wait_until(lambda: all(healthy(r) for r in replicas), timeout_s=120, what="every replica healthy")
    mark("all 10 replicas healthy")
    intakes = [r for r in replicas if r.service == "intake"]
    auth = f"Bearer {token(intakes[0])}"
    case_ids: list[str] = []
    with ThreadPoolExecutor(max_workers=4) as pool:
        for start in range(0, N, CHUNK):
            if start == KILL_AFTER:
                mark(f"{start} cases sent; SIGKILL to nats n1 and replica 1 of every service")
                cluster.kill(0)  # every client connected to n1 must fail over to n2 or n3
                for replica in replicas:
                    if replica.instance == 1:
                        replica.process.kill()
                        replica.process.wait(timeout=15)
            alive = [r for r in intakes if r.process.poll() is None]
            batch = range(start, min(N, start + CHUNK))
            case_ids += pool.map(post_call, [alive[i % len(alive)] for i in batch], [auth] * len(batch), batch)
    assert len(set(case_ids)) == N
    mark(f"all {N} cases sent")

    # The killed replicas held unacknowledged messages: they come back to the survivors after ack_wait.
    # The feed projects out of order: a case can show `tracked` while its `classified`, held by a killed
    # feed replica, still waits for redelivery; so wait for the event log too (a loss never arrives).
    expected_events = {kind: (N, N) for kind in PIPELINE}
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        state = pipeline_state(postgres_url, case_ids)
        if state["done"] == N and state["events"] == expected_events:
            break
        time.sleep(1.0)
    assert state["done"] == N, f"{state['done']} of {N} cases tracked"
    mark(f"all {N} cases tracked")
    tasks = state["tasks"]
    assert isinstance(tasks, dict)
    assert len(tasks) == N and set(tasks.values()) == {1}, "every case has exactly one task"
    assert state["events"] == expected_events, "each step once per case in the event log"

    counts, stream_replicas = subject_counts(cluster.urls[1:])
    assert stream_replicas == 3
    # Nothing published twice: re-published outputs (outbox relays of both intakes, redelivered
    # batches) carried the same message ids and JetStream kept one copy.
    assert {kind: counts.get(f"case.v1.{kind}", 0) for kind in PIPELINE} == {kind: N for kind in PIPELINE}

    # What the engineer on call sees: the survivors' metrics and health.
    survivors = [r for r in replicas if r.instance == 2]
    for replica in survivors:
        assert healthy(replica), replica.service
    classifier = next(r for r in survivors if r.service == "classifier")
    scrape = httpx.get(classifier.base + "/metrics", timeout=5).text
    assert 'hotline_messages_total{consumer="classifier",outcome="acked"}' in scrape
    assert "hotline_consumer_pending" in scrape and "hotline_handler_seconds_bucket" in scrape
    assert 'hotline_batch_in_hand_seconds{durable="classifier-received-v1"}' in scrape
    assert 'hotline_batch_messages_bucket{consumer="classifier"' in scrape
    health = json.loads(httpx.get(classifier.base + "/health", timeout=5).text)
    assert health == {"service": "classifier", "instance": "2", "status": "ok"}
    intake_scrape = httpx.get(intakes[1].base + "/metrics", timeout=5).text
    assert 'hotline_outbox_backlog{source="intake"}' in intake_scrape


async def publish_once_the_stream_has_a_leader(js: JetStreamContext, subject: str) -> None:
    """A new stream answers once its leader is elected, which a loaded machine may take seconds to do."""
    deadline = time.monotonic() + 20 * SLOWNESS
    while True:
        try:
            await js.publish(subject, b"{}", timeout=5)
            return
        except (nats.errors.TimeoutError, nats.errors.NoRespondersError, nats.js.errors.ServiceUnavailableError):
            if time.monotonic() > deadline:
                raise


def test_raising_the_replica_setting_scales_existing_streams(cluster: NatsCluster) -> None:
    """A county that grew from one NATS node to three: HOTLINE_STREAM_REPLICAS=3 takes effect on the
    streams it already has, keeping their messages."""

    async def run() -> tuple[int, int]:
        nc = await nats.connect(cluster.urls)
        try:
            js = nc.jetstream()
            await js.add_stream(
                StreamConfig(name=subjects.CASES_STREAM, subjects=list(subjects.CASES_SUBJECTS), num_replicas=1)
            )
            await publish_once_the_stream_has_a_leader(js, subjects.CASE_RECEIVED)
            await declare_streams(js, replicas=3)
            info = await js.stream_info(subjects.CASES_STREAM)
            return info.config.num_replicas or 1, info.state.messages
        finally:
            await nc.close()

    assert asyncio.run(run()) == (3, 1)
