"""Every HTTP error as JSON with a Chinese `message`.

- HTTPException answers keep their `detail` (clients read it) and gain `message`.
- A database or NATS that is down answers 503 with Retry-After, so clients and proxies retry later
  instead of treating the request as broken.
- Anything else answers 500 JSON, logged with its traceback, as the last resort. This is a plain ASGI
  middleware rather than an `Exception` handler: Starlette re-raises after such a handler, which
  tears down the keep-alive connection (and fails TestClient requests).
"""

from __future__ import annotations

import logging
import socket
import sqlite3
from collections.abc import Iterator, Mapping
from http import HTTPStatus
from typing import Any

import nats.errors
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import exc as sa
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hotline.services.intake.schemas import chinese_error

log = logging.getLogger(__name__)

RETRY_AFTER_S = 5
DATABASE_DOWN = "数据库暂时不可用，请稍后重试"
NATS_DOWN = "消息服务暂时不可用，请稍后重试"
TIMED_OUT = "服务响应超时，请稍后重试"
INTERNAL = "服务器内部错误，已记录"

# Starlette's own errors (unknown path, wrong method …) carry English reason phrases.
_CHINESE_STATUS = {
    400: "请求格式不正确，请检查请求体（JSON）和 Content-Type",
    401: "未登录或令牌无效",
    403: "无权访问",
    404: "接口或资源不存在",
    405: "该接口不支持此请求方法",
    406: "无法提供所要求的格式",
    413: "请求体过大",
    415: "不支持的内容类型，请使用 application/json",
    429: "请求过于频繁，请稍后再试",
}


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what it wraps (SQLAlchemy wraps the driver's error in `orig`/__cause__)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        if isinstance(orig, BaseException):
            current = orig
        else:
            current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)


# PostgreSQL error classes that mean "the database cannot serve you now", not "your query is wrong":
# 08 connection exception, 28 invalid authorization, 3D no such database, 53 insufficient resources
# (too many connections, disk full), 57P operator intervention (shutdown, starting up).
_UNAVAILABLE_SQLSTATES = ("08", "28", "3D", "53", "57P")


def _driver_connection_error(exc: BaseException) -> bool:
    if not type(exc).__module__.startswith("asyncpg"):
        return False
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate.startswith(_UNAVAILABLE_SQLSTATES)
    # asyncpg's client-side failures (connection closed, pool released) carry no SQLSTATE.
    return any(cls.__name__ == "InterfaceError" for cls in type(exc).__mro__)


def _all_addresses_failed(exc: BaseException) -> bool:
    # asyncio's connect to a host name with several addresses (localhost: ::1 and 127.0.0.1) raises a
    # bare OSError naming each refusal.
    return type(exc) is OSError and str(exc).startswith("Multiple exceptions")


def unavailable(exc: BaseException) -> str | None:
    """The Chinese message of a 503 when `exc` means a backing service is down; None otherwise."""
    for cause in _causes(exc):
        if isinstance(cause, nats.errors.Error):
            return NATS_DOWN
        if isinstance(cause, sa.OperationalError | sa.InterfaceError | sa.TimeoutError | sa.DisconnectionError):
            return DATABASE_DOWN
        if isinstance(cause, sa.DBAPIError) and cause.connection_invalidated:
            return DATABASE_DOWN
        if isinstance(cause, sqlite3.OperationalError | sqlite3.InterfaceError) or _driver_connection_error(cause):
            return DATABASE_DOWN
        if isinstance(cause, ConnectionError | socket.gaierror) or _all_addresses_failed(cause):
            return DATABASE_DOWN
    if isinstance(exc, TimeoutError):
        return TIMED_OUT
    return None


def error_body(status: int, detail: Any) -> dict[str, Any]:
    """{"message", "detail"}: the message is Chinese, `detail` stays what the handler raised."""
    if isinstance(detail, list):
        message = "；".join(str(item.get("message", item)) if isinstance(item, dict) else str(item) for item in detail)
    else:
        message = str(detail) if detail is not None else ""
    if not _has_chinese(message):  # Starlette's and FastAPI's own English wording
        english = message
        message = _CHINESE_STATUS.get(status, f"请求失败（{status}）")
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
        if english and english != phrase:
            message = f"{message}（{english}）"
        if not english or english == phrase:
            detail = message
    return {"message": message, "detail": detail}


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _json_response(status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content=body, headers=headers)


def unavailable_response(message: str) -> JSONResponse:
    return _json_response(503, {"message": message, "detail": message}, {"Retry-After": str(RETRY_AFTER_S)})


class LastResort:
    """ASGI middleware: an exception no handler took becomes a 503 or 500 JSON answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:  # a stream already under way: nothing can be answered any more
                raise
            message = unavailable(exc)
            if message is not None:
                log.warning("%s %s: %s (%s)", scope.get("method"), scope.get("path"), message, exc)
                response = unavailable_response(message)
            else:
                log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
                response = _json_response(500, {"message": INTERNAL, "detail": INTERNAL})
            await response(scope, receive, send)


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [chinese_error(dict(error)) for error in exc.errors()]
        return _json_response(422, {"message": "；".join(e["message"] for e in errors), "detail": errors})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code in (204, 304):  # no body allowed
            return Response(status_code=exc.status_code, headers=exc.headers)
        headers = dict(exc.headers or {})
        if exc.status_code == 503:  # a service this request needs is down: say when to try again
            headers.setdefault("Retry-After", str(RETRY_AFTER_S))
        return _json_response(exc.status_code, error_body(exc.status_code, exc.detail), headers)

    app.add_middleware(LastResort)
