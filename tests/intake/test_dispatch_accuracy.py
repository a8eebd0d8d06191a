"""派单准确率 per unit and week: the first 主办 unit kept, or left after a 退回 / 改派."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from hotline.services.intake.dispatch_accuracy import (
    REASSIGNED,
    RETURNED,
    FirstAssignment,
    dispatch_accuracy,
    first_assignments,
    week_of,
)
from hotline.shared.db import TaskRow, transaction
from tests.intake.test_api import anonymous, client, login  # noqa: F401  (fixtures)

MON = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Beijing


def first(unit: str, at: datetime, state: str = "signed") -> FirstAssignment:
    return FirstAssignment(unit, {"zjj": "县住建局", "gaj": "县公安局"}[unit], at, state)


def test_a_week_is_the_beijing_calendar_week() -> None:
    sunday_night = datetime(2026, 11, 8, 15, 59, tzinfo=UTC)  # Sunday 23:59 in Beijing
    monday_early = datetime(2026, 11, 8, 16, 1, tzinfo=UTC)  # Monday 00:01 in Beijing, still Sunday in UTC
    assert week_of(MON) == week_of(sunday_night) == date(2026, 11, 2)
    assert week_of(monday_early) == date(2026, 11, 9)


def test_kept_returned_and_reassigned_are_counted_per_unit_and_week() -> None:
    rows = dispatch_accuracy(
        [
            first("zjj", MON),
            first("zjj", MON + timedelta(days=1), RETURNED),
            first("zjj", MON + timedelta(days=2), REASSIGNED),
            first("zjj", MON + timedelta(days=3), "closed"),
            first("gaj", MON + timedelta(days=4), "pending"),
            first("zjj", MON + timedelta(days=7), RETURNED),
        ]
    )
    keys = [(r["week"], r["unit_code"], r["routed"], r["kept"], r["returned"], r["reassigned"]) for r in rows]
    assert keys == [
        ("2026-11-09", "zjj", 1, 0, 1, 0),  # newest week first
        ("2026-11-02", "gaj", 1, 1, 0, 0),
        ("2026-11-02", "zjj", 4, 2, 1, 1),
    ]
    assert [r["kept_rate"] for r in rows] == [0.0, 100.0, 50.0]
    assert rows[2]["unit_name"] == "县住建局" and rows[2]["week_end"] == "2026-11-08"
    assert dispatch_accuracy([]) == []


def task(case_id: uuid.UUID, unit: str, at: datetime, state: str, role: str = "lead") -> TaskRow:
    return TaskRow(
        id=uuid.uuid4(),
        case_id=case_id,
        unit_code=unit,
        unit_name=unit,
        co_units=[],
        state=state,
        role=role,
        assigned_at=at,
        attachments=[],
        source_event_id=uuid.uuid4(),
        updated_at=at,
    )


async def test_the_first_lead_task_of_each_case_is_read_from_the_database(sessions: Any) -> None:
    a, b, c, old = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with transaction(sessions) as session:
        session.add_all(
            [
                task(a, "zjj", MON, REASSIGNED),  # 改派 away from 住建 …
                task(a, "cgj", MON + timedelta(hours=2), "signed"),  # … to 城管, which is not a first routing
                task(b, "gaj", MON, RETURNED),
                task(b, "jtj", MON + timedelta(hours=1), "pending"),
                task(c, "zjj", MON, "answered"),
                task(c, "cgj", MON, "pending", role="co"),  # a 协办 task is never the first routing
                task(old, "zjj", MON - timedelta(days=30), "closed"),  # before the period
            ]
        )
    async with sessions() as session:
        found = await first_assignments(session, start=date(2026, 11, 1), end=date(2026, 11, 30))
    rows = {r["unit_code"]: (r["routed"], r["kept"], r["returned"], r["reassigned"]) for r in dispatch_accuracy(found)}
    assert rows == {"zjj": (2, 1, 0, 1), "gaj": (1, 0, 1, 0)}


def test_the_dashboard_endpoint_answers_leadership_roles(client: TestClient) -> None:  # noqa: F811
    answer = client.get("/api/v1/stats/dispatch-accuracy", params={"from": "2026-11-01", "to": "2026-11-30"})
    assert answer.status_code == 200, answer.text
    period = {"from": "2026-11-01", "to": "2026-11-30"}
    assert answer.json() == {"period": period, "items": [], "limit": 500, "next_cursor": None}
    for wrong in ({"cursor": "not-a-cursor"}, {"limit": 0}, {"limit": 2001}):
        refused = client.get("/api/v1/stats/dispatch-accuracy", params=wrong)
        assert refused.status_code == 422 and next(iter(wrong)) in refused.text, wrong
    bad = client.get("/api/v1/stats/dispatch-accuracy", params={"from": "2026-12-01", "to": "2026-11-01"})
    assert bad.status_code == 422 and "from" in bad.text
    operator = {"username": "op-acc", "password": "accuracy-pass-1", "role": "operator", "unit": None}
    assert client.post("/api/v1/users", json=operator).status_code == 201
    as_operator = login(client, "op-acc", "accuracy-pass-1")
    assert client.get("/api/v1/stats/dispatch-accuracy", headers=as_operator).status_code == 403
    assert client.get("/api/v1/stats", headers=as_operator).status_code == 403  # the same rule as /stats
