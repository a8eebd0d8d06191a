"""A tiny HTTP endpoint for the services without an API: `GET /metrics` (Prometheus) and
`GET /health` (200 or 503, JSON naming the reason). Plain asyncio: a scrape every few seconds needs
no web framework, and it runs on the service's own event loop, so a wedged loop fails its health check.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

from hotline.shared.metrics import render

# () → list of reasons the process is unhealthy; empty when it is well.
HealthCheck = Callable[[], list[str]]


def health_body(service: str, instance: str, reasons: list[str]) -> tuple[int, dict[str, Any]]:
    """The health answer: 200 when nothing is wrong, else 503 with every reason."""
    body: dict[str, Any] = {"service": service, "instance": instance, "status": "ok" if not reasons else "down"}
    if reasons:
        body["reasons"] = reasons
    return (200 if not reasons else 503), body


class OpsServer:
    def __init__(self, *, service: str, instance: str, host: str, port: int, health: HealthCheck) -> None:
        self.service = service
        self.instance = instance
        self.host = host
        self.port = port
        self.health = health
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
            parts = request.split(b" ", 2)
            path = parts[1].split(b"?", 1)[0].decode("ascii", "replace") if len(parts) > 1 else ""
            status, content_type, payload = self._respond(path)
            head = (
                f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
                f"Content-Type: {content_type}\r\nContent-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode("ascii") + payload)
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _respond(self, path: str) -> tuple[int, str, bytes]:
        if path == "/metrics":
            payload, content_type = render()
            return 200, content_type, payload
        if path == "/health":
            status, body = health_body(self.service, self.instance, self.health())
            return status, "application/json; charset=utf-8", json.dumps(body, ensure_ascii=False).encode()
        return 404, "text/plain; charset=utf-8", b"not found: /metrics or /health\n"
