"""`hotline bench` (--mode pipeline): cases/s through received → classified → routed → tracked on a fresh embedded
nats-server and SQLite database, and, on the same server in the same run, a bare nats-py JetStream
consume-ack-publish loop for comparison. Prints one JSON line.

Texts: eight short call texts in turn, or `--texts FILE` (CSV or JSON lines with a `text` column, or
`subject` and `body`: a county's own cases, or a public corpus of web messages, which are longer and
cost the classifier more)."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
from nats.js.api import ConsumerConfig, StreamConfig
from sqlalchemy import insert

from hotline.bench_http import cpu_per_call, cpu_seconds, load_average, machine
from hotline.natsserver import EmbeddedNats
from hotline.shared import eventloop, subjects
from hotline.shared.db import CaseRow, create_engine, session_factory, transaction
from hotline.shared.events import CallOutcome, CaseReceived, Channel
from hotline.shared.messaging import MSG_ID_HEADER, declare_streams
from hotline.shared.publishing import StoredPublisher, publish_stored
from hotline.supervisor import Supervisor, wait_for_services

PIPELINE = ("classifier", "router", "escalation")
SAMPLE_TEXTS = (
    "城厢镇经兜村村道旁的排水沟堵塞了两个多月，一下雨污水就漫到路面上，请尽快疏通。",
    "湖头镇某工地拖欠农民工工资三个月了，包工头电话打不通，请劳动部门帮忙追讨。",
    "小区楼下的烧烤店每天营业到凌晨两点，油烟和噪音严重影响居民休息。",
    "孩子所在的小学课后服务收费不透明，家长希望教育局规范收费。",
    "县医院挂号难，专家号一号难求，希望增加号源。",
    "公交车班次太少，早晚高峰等车要半个多小时。",
    "景区门票涨价后游客投诉停车场也乱收费。",
    "新楼盘延期交房一年多，开发商一直拖着不给说法。",
)


def file_texts(path: Path, *, min_chars: int = 20) -> list[str]:
    """The raw texts of `min_chars` or more in a CSV or JSON lines file, in the file's order."""
    from hotline.services.classifier.dataset import read_examples

    return [e.text for e in read_examples(path, require_label=False) if len(e.text) >= min_chars]


def sample_received_events(n: int, texts: Sequence[str] = SAMPLE_TEXTS) -> list[CaseReceived]:
    """`n` transferred calls as `received` events, the texts in turn (bench and reliability tests)."""
    now = datetime.now(UTC)
    return [
        CaseReceived(
            event_id=uuid.uuid4(),
            case_id=uuid.uuid4(),
            occurred_at=now,
            channel=Channel.HOTLINE,
            received_at=now,
            content=texts[i % len(texts)],
            outcome=CallOutcome.TRANSFER,
        )
        for i in range(n)
    ]


async def store_cases(database_url: str, events: Sequence[CaseReceived]) -> None:
    """The `cases` rows intake would have written before publishing: consumers refuse events about
    cases the store does not know, so whatever publishes `received` straight to NATS stores them first."""
    engine = create_engine(database_url)
    rows = [
        {
            "id": e.case_id,
            "query_code": e.case_id.hex[:16],
            "channel": e.channel.value,
            "received_at": e.received_at,
            "created_at": e.occurred_at,
            "content": e.content,
            "status": "received",
            "updated_at": e.occurred_at,
        }
        for e in events
    ]
    try:
        async with transaction(session_factory(engine)) as session:
            for start in range(0, len(rows), 500):
                await session.execute(insert(CaseRow), rows[start : start + 500])
    finally:
        await engine.dispose()


async def _pipeline(
    url: str, n: int, texts: Sequence[str], database_url: str, pids: dict[str, int], others: dict[str, int]
) -> dict[str, Any]:
    """`pids`: the pipeline's processes; `others`: the rest that share the cores (the NATS server,
    this process publishing and tracking), reported apart."""
    nc = await nats.connect(url)
    js = nc.jetstream()
    await declare_streams(js)
    await wait_for_services(url, PIPELINE)
    sent: dict[str, float] = {}
    latencies: list[float] = []
    done = asyncio.Event()
    arrived = asyncio.Event()

    async def on_tracked(msg: Any) -> None:
        case_id = json.loads(msg.data)["case_id"]
        start = sent.pop(case_id, None)
        if start is not None:
            latencies.append(time.perf_counter() - start)
            arrived.set()
            if len(latencies) == n:
                done.set()

    await nc.subscribe(subjects.CASE_TRACKED, cb=on_tracked)
    events = sample_received_events(n, texts)
    idle_events = sample_received_events(20, texts)
    await store_cases(database_url, [*events, *idle_events])
    # Published as intake's outbox relay publishes them (its own reply subscription, 200 at a time),
    # so the load costs this process, which shares the cores, what it costs intake.
    publisher = StoredPublisher(nc)
    cpu_before, others_before = cpu_seconds(pids), cpu_seconds(others)
    started = time.perf_counter()
    for window in range(0, n, 200):
        chunk = events[window : window + 200]
        for event in chunk:
            sent[str(event.case_id)] = time.perf_counter()
        await publish_stored(
            publisher,
            [(subjects.CASE_RECEIVED, event.model_dump_json().encode(), str(event.event_id)) for event in chunk],
        )
    await asyncio.wait_for(done.wait(), timeout=max(120, n / 20))
    elapsed = time.perf_counter() - started
    cpu_ms_per_case = cpu_per_call(cpu_before, cpu_seconds(pids), n)
    others_ms_per_case = cpu_per_call(others_before, cpu_seconds(others), n)
    burst = sorted(latencies)
    # Then one case at a time on the idle pipeline: the latency a single call sees.
    idle: list[float] = []
    for event in idle_events:
        latencies.clear()
        arrived.clear()
        sent[str(event.case_id)] = time.perf_counter()
        payload = event.model_dump_json().encode()
        await js.publish(subjects.CASE_RECEIVED, payload, headers={MSG_ID_HEADER: str(event.event_id)})
        await asyncio.wait_for(arrived.wait(), timeout=10)
        idle.append(latencies[0])
    await nc.close()
    latencies = burst
    return {
        "idle_p50_ms": round(statistics.median(idle) * 1000, 1),
        "cases_per_s": round(n / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 1),
        "elapsed_s": round(elapsed, 2),
        "cpu_ms_per_case": cpu_ms_per_case,
        "others_cpu_ms_per_case": others_ms_per_case,
    }


async def _bare_baseline(url: str, n: int) -> dict[str, Any]:
    """The floor: one nats-py pull consumer that fetches 100 at a time, publishes each onward, acks."""
    nc = await nats.connect(url)
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name="BENCH", subjects=["bench.>"]))
    payload = json.dumps({"content": SAMPLE_TEXTS[0], "case_id": str(uuid.uuid4())}).encode()
    for window in range(0, n, 500):
        await asyncio.gather(*(js.publish("bench.in", payload) for _ in range(min(500, n - window))))
    sub = await js.pull_subscribe("bench.in", durable="bench", config=ConsumerConfig(max_ack_pending=10_000))
    handled = 0
    started = time.perf_counter()
    while handled < n:
        msgs = await sub.fetch(batch=100, timeout=5)
        await asyncio.gather(*(js.publish("bench.out", m.data) for m in msgs))
        await asyncio.gather(*(m.ack() for m in msgs))
        handled += len(msgs)
    elapsed = time.perf_counter() - started
    await js.delete_stream("BENCH")
    await nc.close()
    return {"msgs_per_s": round(n / elapsed, 1), "elapsed_s": round(elapsed, 2)}


def run_bench(*, n: int = 2000, replicas: int = 1, texts_file: Path | None = None) -> int:
    texts = file_texts(texts_file) if texts_file else SAMPLE_TEXTS
    if not texts:
        raise SystemExit(f"{texts_file}：没有 20 字以上的文本")
    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="hotline-bench-") as tmp:
        data_dir = Path(tmp)
        server = EmbeddedNats(data_dir / "nats", log_file=data_dir / "nats.log")
        server.start()
        env = dict(os.environ, NATS_URL=server.url, HOTLINE_LOG_LEVEL="WARNING")
        env.pop("DATABASE_URL", None)
        supervisor = Supervisor(
            data_dir=data_dir, env=env, services=PIPELINE, restart=False, quiet=True, replicas=replicas
        )
        try:
            supervisor.start()
            pids = {name: c.process.pid for name, c in supervisor.children.items() if c.process is not None}
            others = {"bench": os.getpid()}
            if server.process is not None:
                others["nats-server"] = server.process.pid
            pipeline = eventloop.run(_pipeline(server.url, n, texts, supervisor.env["DATABASE_URL"], pids, others))
            baseline = eventloop.run(_bare_baseline(server.url, n))
        finally:
            supervisor.stop()
            server.stop()
    result = {
        "mode": "pipeline",
        "n": n,
        "replicas": replicas,
        "loop": eventloop.loop_name(),
        "stages": "received→classified→routed→tracked",
        "texts": texts_file.name if texts_file else "sample calls",
        "mean_chars": round(statistics.mean(len(t) for t in texts), 1),
        "pipeline_cases_per_s": pipeline["cases_per_s"],
        "p50_ms": pipeline["p50_ms"],
        "p99_ms": pipeline["p99_ms"],
        "idle_p50_ms": pipeline["idle_p50_ms"],
        # CPU each process spent per case (until the last was tracked): steadier than rates on a busy machine.
        "cpu_ms_per_case": pipeline["cpu_ms_per_case"],
        "others_cpu_ms_per_case": pipeline["others_cpu_ms_per_case"],
        "bare_nats_py_consume_ack_publish_msgs_per_s": baseline["msgs_per_s"],
        "ratio": round(pipeline["cases_per_s"] / baseline["msgs_per_s"], 3),
        "database": "sqlite",
        "machine": machine(),
        "load_average_before": load_before,
        "load_average_after": load_average(),
    }
    print(json.dumps(result, ensure_ascii=False))
    return 0
