"""Keyset pagination: pages follow (time, id), and rows inserted between two pages neither repeat
nor drop a row of the list that was being read (SQLite, and PostgreSQL when reachable)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from hotline.services.intake.keyset import decode, encode, page
from hotline.shared.db import CaseRow, DeadLetterRow, TaskRow, transaction
from tests.intake.test_api import anonymous, client  # noqa: F401  (fixtures)

T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def _write(api: TestClient, table: Any, rows: list[dict[str, Any]]) -> None:
    runtime = api.app.state.runtime  # type: ignore[attr-defined]

    async def write() -> None:
        async with transaction(runtime.sessions) as session:
            await session.execute(insert(table), rows)

    api.portal.call(write)  # type: ignore[union-attr]


def _cases(api: TestClient, times: list[datetime]) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in times]
    _write(
        api,
        CaseRow,
        [
            {
                "id": case_id,
                "query_code": case_id.hex[:12].upper(),
                "channel": "hotline",
                "received_at": at,
                "created_at": at,
                "updated_at": at,
                "content": "路灯坏了",
                "details": {},
                "status": "tracked",
                "needs_review": False,
                "repeat_count": 0,
            }
            for case_id, at in zip(ids, times, strict=True)
        ],
    )
    return ids


def _read_all(api: TestClient, path: str, limit: int, between: Any = None) -> list[str]:
    seen: list[str] = []
    cursor = None
    for number in range(100):
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        answer = api.get(path, params=params)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        seen += [item.get("id") or item.get("case_id") for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
        if between is not None:
            between(number)
    raise AssertionError("the pages never ended")


def test_case_pages_follow_receipt_then_id_whatever_is_inserted_meanwhile(client: TestClient) -> None:  # noqa: F811
    # Ties on the receipt time: the id decides, so no case sits on two pages or none.
    times = [T0 - timedelta(minutes=n // 3) for n in range(14)]
    ids = _cases(client, times)
    expected = [str(i) for _, i in sorted(zip(times, ids, strict=True), reverse=True)]
    # Between pages: newer cases arrive, and one at the very time of the cases being read.
    inserted: list[uuid.UUID] = []

    def arrive(number: int) -> None:
        inserted.extend(_cases(client, [T0 + timedelta(minutes=number + 1), T0 + timedelta(days=1)]))

    seen = _read_all(client, "/api/v1/cases", 4, arrive)
    assert seen == expected  # every case once, in order; the newer ones are not on later pages
    assert len(inserted) >= 6
    # A fresh read from the top sees them all.
    assert len(_read_all(client, "/api/v1/cases", 50)) == len(expected) + len(inserted)


def test_task_pages_follow_assignment_then_id(client: TestClient) -> None:  # noqa: F811
    case_id = _cases(client, [T0])[0]
    at = [T0 + timedelta(minutes=n // 2) for n in range(9)]
    tasks = [
        {
            "id": uuid.uuid4(),
            "case_id": case_id,
            "unit_code": "zjj",
            "unit_name": "县住建局",
            "co_units": [],
            "role": "lead",
            "state": "pending",
            "assigned_at": moment,
            "attachments": [],
            "source_event_id": uuid.uuid4(),
            "updated_at": moment,
        }
        for moment in at
    ]
    _write(client, TaskRow, tasks)
    expected = [str(t["id"]) for t in sorted(tasks, key=lambda t: (t["assigned_at"], t["id"]), reverse=True)]
    assert _read_all(client, "/api/v1/tasks", 2) == expected


def test_dead_letter_pages_are_newest_first(client: TestClient) -> None:  # noqa: F811
    letters = [
        {
            "message_id": f"m{n}",
            "subject": "case.v1.received",
            "consumer": "router",
            "error": "x",
            "payload": "{}",
            "headers": {},
            "created_at": T0 + timedelta(seconds=n // 2),
        }
        for n in range(7)
    ]
    _write(client, DeadLetterRow, letters)
    answers = _read_all(client, "/api/v1/dead-letters", 3)
    assert len(answers) == 7 and len(set(answers)) == 7
    assert answers == sorted(answers, key=int, reverse=True)  # ids grow with creation here


@pytest.mark.parametrize(
    "params",
    [{"cursor": "not-a-cursor"}, {"cursor": encode(T0, "not-a-uuid")}, {"cursor": "x" * 500}, {"offset": 10_001}],
)
def test_a_bad_cursor_or_a_deep_offset_is_refused_in_chinese(client: TestClient, params: dict[str, Any]) -> None:  # noqa: F811
    answer = client.get("/api/v1/cases", params=params)
    assert answer.status_code == 422, answer.text
    assert any("\u4e00" <= ch <= "\u9fff" for ch in answer.text)


def test_a_cursor_names_a_position_and_a_full_page_points_past_its_last_row() -> None:
    position = decode(encode(T0, 42))
    assert (position.at, position.id) == (T0, "42")
    rows = [(T0, 3), (T0, 2), (T0, 1)]
    assert page(rows, 3, lambda r: r) == (rows, None)  # the query found no row beyond the page
    shown, cursor = page([*rows, (T0, 0)], 3, lambda r: r)
    assert shown == rows and cursor is not None and decode(cursor).id == "1"
    with pytest.raises(ValueError):
        decode(encode(T0.replace(tzinfo=None), 1))  # a naive time is not one this API writes
