"""The HTTP bench's own parts: varied valid bodies, open-loop accounting, the lean keep-alive client."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from hotline.bench_client import HttpError, LeanClient
from hotline.bench_http import call_bodies, paced_load
from hotline.services.intake.schemas import CallIn


def test_call_bodies_are_valid_varied_and_reproducible() -> None:
    bodies = call_bodies(300)
    assert bodies == call_bodies(300)
    assert len({b["phone"] for b in bodies}) == 300
    assert len({b["content"] for b in bodies}) > 250
    for body in bodies:
        CallIn.model_validate(body)


class FakeClient:
    def __init__(self) -> None:
        self.n = 0

    async def post(self, path: str, body: Any) -> tuple[int, Any]:
        self.n += 1
        if self.n == 2:
            raise HttpError("ConnectionResetError")
        if self.n == 3:
            return 503, {"message": "数据库暂时不可用"}
        if self.n == 4:
            return 201, {"id": "c1", "repeat_of": "c1"}
        return 201, {"id": f"c{self.n}"}


async def test_paced_load_counts_answers_errors_and_repeats() -> None:
    created: list[str] = []
    load = await paced_load(FakeClient(), [{}] * 6, rate=0, on_created=created.append)  # type: ignore[arg-type]
    summary = load.summary()
    assert summary["offered"] == 6 and summary["ok"] == 4
    assert summary["errors"] == {"ConnectionResetError": 1, "503": 1}
    assert summary["repeats"] == 1 and created == ["c1", "c5", "c6"]
    assert summary["p50_ms"] is not None and summary["p99_ms"] <= summary["max_ms"]


async def test_lean_client_keeps_connections_alive_and_reconnects() -> None:
    connections = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
        )
        body = json.loads(await reader.readexactly(length))
        answer = json.dumps({"echo": body["n"]}).encode()
        writer.write(b"HTTP/1.1 201 Created\r\ncontent-length: %d\r\n\r\n%s" % (len(answer), answer))
        await writer.drain()
        if body["n"] == 1:  # the server keeps the first connection for one more request only
            head = await reader.readuntil(b"\r\n\r\n")
            await reader.readexactly(
                next(int(x.split(b":")[1]) for x in head.split(b"\r\n") if x.lower().startswith(b"content-length"))
            )
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, LeanClient(f"http://127.0.0.1:{port}") as client:
        assert await client.post("/x", {"n": 1}) == (201, {"echo": 1})
        assert await client.post("/x", {"n": 2}) == (200, {})  # same connection
        assert connections == 1
        assert await client.post("/x", {"n": 3}) == (201, {"echo": 3})  # the server closed it: a new one
        assert connections == 2


def test_cpu_per_call_per_process_and_in_all() -> None:
    from hotline.bench_http import cpu_per_call, cpu_seconds

    per_call = cpu_per_call({"intake": 1.0, "feed": 2.0}, {"intake": 3.0, "feed": 2.5, "gone": 9.0}, 100)
    assert per_call == {"intake": 20.0, "feed": 5.0, "all": 25.0}
    assert cpu_seconds({"no such process": 2**22 + 7}) == {}


def test_the_bare_endpoint_stores_the_row_intake_would(database_url: str) -> None:
    from fastapi.testclient import TestClient
    from sqlalchemy import create_engine as sync_engine
    from sqlalchemy import text

    from hotline.bench_bare_api import create_bare_app

    body = call_bodies(1)[0]
    with TestClient(create_bare_app(database_url)) as client:
        answer = client.post("/api/v1/calls", json=body)
        assert answer.status_code == 201 and answer.json()["status"] == "received"
        assert client.post("/api/v1/calls", json={**body, "phone": "12"}).status_code == 422
    if database_url.startswith("sqlite"):  # read back on SQLite (there is no sync PostgreSQL driver here)
        with sync_engine(database_url.replace("+aiosqlite", "")).connect() as connection:
            row = connection.execute(text("SELECT phone, township, channel FROM cases")).one()
        assert tuple(row) == (body["phone"], body["township"], "hotline")
