"""HTTP errors are JSON with a Chinese message; an unavailable store is 503 with Retry-After."""

from __future__ import annotations

import sqlite3

import asyncpg
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from hotline.services.intake.errors import install_error_handlers


def app_raising(exc: Exception) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise exc

    return TestClient(app, raise_server_exceptions=False)


def test_a_database_outage_is_503_with_retry_after() -> None:
    for exc in (
        OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked")),
        OperationalError("SELECT 1", {}, ConnectionRefusedError(111, "Connect call failed")),
        asyncpg.exceptions.ConnectionDoesNotExistError("closed"),
    ):
        response = app_raising(exc).get("/boom")
        assert response.status_code == 503 and response.headers["retry-after"] == "5"
        assert "暂时不可用" in response.json()["message"]


def test_a_bug_is_a_json_500_with_a_chinese_message() -> None:
    response = app_raising(ZeroDivisionError()).get("/boom")
    assert response.status_code == 500
    assert response.json() == {"message": "服务器内部错误，已记录，请稍后重试或联系管理员"}


def test_http_errors_carry_a_chinese_message_beside_their_detail() -> None:
    from fastapi import HTTPException

    client = app_raising(HTTPException(404, detail="死信不存在"))
    assert client.get("/boom").json() == {"message": "死信不存在", "detail": "死信不存在"}
    body = app_raising(HTTPException(422, detail=[{"field": "x", "message": "x 不能早于 2000-01-01"}])).get("/boom")
    assert body.json()["message"] == "x 不能早于 2000-01-01"
    unknown = client.get("/no-such-path")
    assert unknown.status_code == 404 and unknown.json()["message"] == "接口或资源不存在"
    assert client.delete("/boom").json()["message"] == "不支持该请求方法"
