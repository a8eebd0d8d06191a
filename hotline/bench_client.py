"""A lean HTTP/1.1 client for the load benches: keep-alive connections on asyncio streams, one request
at a time on each, new connections opened as needed. It does a small fraction of httpx's work per
request (httpx's pool costs milliseconds of CPU per request once hundreds wait), so on a 2-core
machine the client does not take the CPU the server under test needs."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit


class HttpError(Exception):
    """The connection failed or the answer was not HTTP/1.1 this client understands."""


class LeanClient:
    def __init__(self, base_url: str, *, headers: dict[str, str] | None = None) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self._head = f"Host: {self.host}:{self.port}\r\nContent-Type: application/json\r\n{extra}"
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def post(self, path: str, body: Any) -> tuple[int, Any]:
        """POST `body` as JSON; returns the status and the decoded JSON answer (None if not JSON)."""
        payload = json.dumps(body, ensure_ascii=False).encode()
        request = f"POST {path} HTTP/1.1\r\n{self._head}Content-Length: {len(payload)}\r\n\r\n".encode() + payload
        while self._idle:  # a kept-alive connection the server closed meanwhile answers nothing: next one
            reader, writer = self._idle.pop()
            answer = await self._exchange(reader, writer, request, reused=True)
            if answer is not None:
                return answer
        reader, writer = await self._connect()
        answer = await self._exchange(reader, writer, request, reused=False)
        assert answer is not None
        return answer

    async def _exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes, *, reused: bool
    ) -> tuple[int, Any] | None:
        try:
            writer.write(request)
            status_line = await reader.readline()
            if not status_line and reused:
                writer.close()
                return None
            headers = await reader.readuntil(b"\r\n\r\n")
            length, close = 0, False
            for line in headers.split(b"\r\n"):
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
            data = await reader.readexactly(length) if length else b""
            status = int(status_line.split(b" ", 2)[1])
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            writer.close()
            if reused and isinstance(exc, ConnectionError):
                return None
            raise HttpError(type(exc).__name__) from exc
        if close:
            writer.close()
        else:
            self._idle.append((reader, writer))
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, None

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            return await asyncio.open_connection(self.host, self.port)
        except OSError as exc:
            raise HttpError(type(exc).__name__) from exc

    async def close(self) -> None:
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()

    async def __aenter__(self) -> LeanClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()
