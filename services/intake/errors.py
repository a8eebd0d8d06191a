"""Every HTTP error is JSON with a Chinese message: 503 + Retry-After while the database or NATS is
unavailable (the client should simply try again), 500 for anything else (never a bare text page)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from hotline.shared.faults import is_transient

log = logging.getLogger(__name__)
RETRY_AFTER_S = 5


def error_response(exc: Exception) -> JSONResponse:
    if is_transient(exc):
        return JSONResponse(
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_S)},
            content={
                "message": f"数据库或消息服务暂时不可用，请 {RETRY_AFTER_S} 秒后重试",
                "retry_after": RETRY_AFTER_S,
            },
        )
    return JSONResponse(status_code=500, content={"message": "服务器内部错误，已记录，请稍后重试或联系管理员"})


# Starlette's own English phrases (unknown path, wrong method …), in the API's language.
STATUS_MESSAGES = {
    400: "请求无效",
    401: "未登录或令牌已失效",
    403: "无权执行此操作",
    404: "接口或资源不存在",
    405: "不支持该请求方法",
    413: "请求体过大",
    415: "不支持的内容类型",
    429: "请求过于频繁，请稍后再试",
}


def http_message(status: int, detail: Any) -> str:
    """The Chinese message of an HTTP error: the route's own words, else the status's."""
    if isinstance(detail, str) and detail and not detail.isascii():
        return detail
    if isinstance(detail, list):
        parts = [str(item.get("message")) for item in detail if isinstance(item, dict) and item.get("message")]
        if parts:
            return "；".join(parts)
    if isinstance(detail, dict) and detail.get("message"):
        return str(detail["message"])
    return STATUS_MESSAGES.get(status, f"请求失败（{status}）")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # `detail` stays as it was for clients that read it; `message` is always there, in Chinese.
        return JSONResponse(
            status_code=exc.status_code,
            content={"message": http_message(exc.status_code, exc.detail), "detail": exc.detail},
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        if is_transient(exc):
            log.warning("%s %s: unavailable: %r", request.method, request.url.path, exc)
        else:
            log.exception("%s %s failed", request.method, request.url.path)
        return error_response(exc)
