"""What the engineer on call relies on: metrics, health with reasons, JSON logs, cluster settings."""

from __future__ import annotations

import asyncio
import json
import logging
import logging.handlers
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.errors import APIError
from prometheus_client import REGISTRY
from pydantic import BaseModel

from hotline.natscluster import Node, node_config
from hotline.natsserver import free_port
from hotline.shared import metrics
from hotline.shared.logs import JsonFormatter, case_context, configure_logging, log_file
from hotline.shared.messaging import BatchProcessor, Delivery, patiently
from hotline.shared.ops_http import OpsServer, health_body
from hotline.shared.outbox import DUPLICATE_IN_PROCESS, jetstream_publish_many, publish_once
from hotline.shared.settings import Settings


def record(message: str, **extra: object) -> logging.LogRecord:
    entry = logging.LogRecord("hotline.test", logging.WARNING, __file__, 1, message, (), None)
    entry.__dict__.update(extra)
    return entry


def test_a_json_log_line_names_service_instance_and_case() -> None:
    line = json.loads(JsonFormatter("classifier", "2").format(record("重试 %s", case_id="c-1")))
    assert line["service"] == "classifier" and line["instance"] == "2"
    assert line["case_id"] == "c-1" and line["level"] == "WARNING" and line["message"] == "重试 %s"
    assert line["ts"].endswith("+00:00")


def test_the_case_context_reaches_lines_without_extra() -> None:
    formatter = JsonFormatter("feed")
    with case_context("c-2"):
        inside = json.loads(formatter.format(record("x")))
    outside = json.loads(formatter.format(record("y")))
    assert inside["case_id"] == "c-2" and "case_id" not in outside and "instance" not in outside


def test_each_replica_logs_to_its_own_rotating_json_file(tmp_path: Path) -> None:
    settings = Settings(HOTLINE_DATA_DIR=tmp_path, HOTLINE_INSTANCE="3")
    assert log_file(settings, "router") == tmp_path / "logs" / "router-3.jsonl"
    assert log_file(Settings(HOTLINE_DATA_DIR=tmp_path), "router") == tmp_path / "logs" / "router.jsonl"
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    try:
        path = configure_logging("router", settings)
        logging.getLogger("hotline.test").warning("派单失败", extra={"case_id": "c-3"})
        for handler in root.handlers:
            handler.flush()
        assert path is not None
        line = json.loads(path.read_text(encoding="utf-8").splitlines()[-1])
        assert (line["message"], line["case_id"], line["instance"]) == ("派单失败", "c-3", "3")
        assert any(isinstance(h, logging.handlers.RotatingFileHandler) for h in root.handlers)
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:] = saved
        root.setLevel(level)


def test_health_names_every_reason() -> None:
    assert health_body("feed", "1", []) == (200, {"service": "feed", "instance": "1", "status": "ok"})
    status, body = health_body("feed", "1", ["未连接 NATS（正在重连）", "消费者 feed-all-v1 已停止"])
    assert status == 503 and body["status"] == "down" and len(body["reasons"]) == 2


async def test_the_ops_server_serves_metrics_and_health() -> None:
    reasons: list[str] = []
    server = OpsServer(service="router", instance="1", host="127.0.0.1", port=free_port(), health=lambda: reasons)
    await server.start()
    try:
        metrics.MESSAGES.labels("router-test", "acked").inc(3)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            scrape = await client.get("/metrics")
            assert scrape.status_code == 200
            assert 'hotline_messages_total{consumer="router-test",outcome="acked"} 3.0' in scrape.text
            assert (await client.get("/health")).json()["status"] == "ok"
            reasons.append("未连接 NATS（正在重连）")
            down = await client.get("/health")
            assert down.status_code == 503 and down.json()["reasons"] == ["未连接 NATS（正在重连）"]
            assert (await client.get("/other")).status_code == 404
    finally:
        await server.stop()


async def test_a_failing_sample_does_not_stop_the_others() -> None:
    async def broken() -> None:
        raise RuntimeError("database away")

    async def fine() -> None:
        metrics.OPEN_CLOCKS.set(42)

    await metrics.Sampler([broken, fine]).sample_once()
    assert "hotline_open_clocks 42.0" in metrics.render()[0].decode()


async def test_a_slow_count_is_taken_once_a_minute_and_first_at_once() -> None:
    now = [1000.0]
    taken: list[float] = []

    async def count() -> None:
        taken.append(now[0])

    sampler = metrics.Sampler([metrics.at_most_every(60, count, monotonic=lambda: now[0])])
    for moment in (1000.0, 1005.0, 1059.9, 1060.0, 1065.0, 1200.0):
        now[0] = moment
        await sampler.sample_once()
    assert taken == [1000.0, 1060.0, 1200.0]


async def test_jetstream_calls_are_retried_while_the_cluster_elects() -> None:
    calls: list[int] = []

    async def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise NatsTimeoutError
        return "ok"

    assert await patiently(flaky, what="test", retry_every_s=0) == "ok" and len(calls) == 3

    async def never() -> str:
        raise NatsTimeoutError

    with pytest.raises(NatsTimeoutError):
        await patiently(never, what="test", patience_s=0, retry_every_s=0)


def test_cluster_settings() -> None:
    settings = Settings(NATS_URL="nats://a:4222, nats://b:4222,nats://c:4222", HOTLINE_STREAM_REPLICAS=3)
    assert settings.nats_servers == ["nats://a:4222", "nats://b:4222", "nats://c:4222"]
    assert settings.stream_replicas == 3 and Settings().stream_replicas == 1 and Settings().metrics_port == 0
    with pytest.raises(ValueError):
        Settings(HOTLINE_STREAM_REPLICAS=0)


def test_a_node_config_routes_to_every_node(tmp_path: Path) -> None:
    node = Node("n2", 4222, 6222, tmp_path / "js")
    routes = ["nats-route://10.0.0.1:6222", "nats-route://10.0.0.2:6222", "nats-route://10.0.0.3:6222"]
    config = node_config(node, routes, host="0.0.0.0")
    assert "server_name: n2" in config and 'listen: "0.0.0.0:6222"' in config and "name: hotline" in config
    assert all(route in config for route in routes) and f'store_dir: "{tmp_path / "js"}"' in config


class RacingJetStream:
    """A JetStream whose first answers are 'same message id in process' (another relay publishing)."""

    def __init__(self, busy: int, err_code: int = DUPLICATE_IN_PROCESS) -> None:
        self.busy = busy
        self.err_code = err_code
        self.calls: list[tuple[str, str]] = []

    async def publish(self, subject: str, payload: bytes, headers: dict[str, str]) -> str:
        self.calls.append((subject, headers["Nats-Msg-Id"]))
        if len(self.calls) <= self.busy:
            raise APIError(code=409, err_code=self.err_code, description="duplicate message id is in process")
        return "stored"


async def test_a_relay_racing_another_waits_for_jetstreams_verdict() -> None:
    js = RacingJetStream(busy=2)
    assert await publish_once(js, "case.v1.received", b"{}", "e-1") == "stored"
    assert js.calls == [("case.v1.received", "e-1")] * 3


class RacingBatchJetStream(RacingJetStream):
    """The same, for messages sent together: the batch's answer for one of them is 'in process'."""

    def __init__(self, busy: int) -> None:
        super().__init__(busy)
        self.sent_together: list[str] = []

    async def publish_async(self, subject: str, payload: bytes, headers: dict[str, str]) -> asyncio.Future[str]:
        self.sent_together.append(headers["Nats-Msg-Id"])
        answer: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        if len(self.sent_together) == 2:
            answer.set_exception(APIError(code=409, err_code=DUPLICATE_IN_PROCESS, description="in process"))
        else:
            answer.set_result("stored")
        return answer


async def test_a_batch_racing_another_relay_settles_each_message_alone() -> None:
    js = RacingBatchJetStream(busy=1)
    messages = [("case.v1.received", b"{}", f"e-{i}") for i in range(3)]
    await jetstream_publish_many(js)(messages)  # type: ignore[arg-type]
    assert js.sent_together == ["e-0", "e-1", "e-2"]
    # then each alone until JetStream's verdict (stored, or a duplicate of what was stored)
    assert js.calls == [
        ("case.v1.received", "e-0"),
        ("case.v1.received", "e-0"),
        ("case.v1.received", "e-1"),
        ("case.v1.received", "e-2"),
    ]


async def test_other_publish_errors_are_not_retried_here() -> None:
    js = RacingJetStream(busy=1, err_code=10077)
    with pytest.raises(APIError):
        await publish_once(js, "case.v1.received", b"{}", "e-1")
    assert len(js.calls) == 1


class Event(BaseModel):
    case_id: str


@dataclass
class FakeMsg:
    data: bytes
    subject: str = "case.v1.received"
    reply: str = "$JS.ACK.x"
    settled: list[str] = field(default_factory=list)

    @property
    def metadata(self) -> SimpleNamespace:
        return SimpleNamespace(num_delivered=1, sequence=SimpleNamespace(stream=1))

    async def ack(self) -> None:
        self.settled.append("ack")

    async def nak(self, delay: float | None = None) -> None:
        self.settled.append("nak")


def counted(consumer: str, outcome: str) -> float | None:
    return REGISTRY.get_sample_value("hotline_messages_total", {"consumer": consumer, "outcome": outcome})


async def test_settling_is_counted_and_logged_with_the_case(caplog: pytest.LogCaptureFixture) -> None:
    async def process(deliveries: Sequence[Delivery[Event]]) -> None:
        if any(d.event.case_id == "bad" for d in deliveries):
            raise RuntimeError("database away")

    consumer = "test-settling"
    processor = BatchProcessor(
        broker=None,  # type: ignore[arg-type]  # only dead letters use it
        decode=Event.model_validate_json,
        consumer=consumer,
        process=process,
        settings=Settings(),
    )
    good, bad = FakeMsg(b'{"case_id": "good"}'), FakeMsg(b'{"case_id": "bad"}')
    with caplog.at_level(logging.DEBUG, logger="hotline.shared.messaging"):
        await processor([FakeMsg(b'{"case_id": "c-1"}'), FakeMsg(b'{"case_id": "c-2"}')])
        await processor([good, bad])
    assert (good.settled, bad.settled) == (["ack"], ["nak"])
    assert (counted(consumer, "acked"), counted(consumer, "retried")) == (3, 1)
    # The batch failed, then the bad message alone.
    assert REGISTRY.get_sample_value("hotline_handler_errors_total", {"consumer": consumer}) == 2
    exposition = metrics.render()[0].decode()
    assert 'hotline_handler_seconds_count{consumer="test-settling"} 2.0' in exposition
    assert 'hotline_batch_messages_sum{consumer="test-settling"} 4.0' in exposition
    assert 'hotline_batch_messages_bucket{consumer="test-settling",le="1.0"} 0.0' in exposition
    assert 'hotline_batch_messages_bucket{consumer="test-settling",le="5.0"} 2.0' in exposition
    cases = [getattr(r, "case_id", None) for r in caplog.records]
    assert {"c-1", "c-2", "good", "bad"} <= set(cases)
