"""Every HTTP error is JSON with a Chinese message: 503 + Retry-After while the database or NATS is
unavailable (the client should simply try again), 500 for anything else (never a bare text page)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

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


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        if is_transient(exc):
            log.warning("%s %s: unavailable: %r", request.method, request.url.path, exc)
        else:
            log.exception("%s %s failed", request.method, request.url.path)
        return error_response(exc)
