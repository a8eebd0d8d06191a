"""The period figures and the report text from known cases in a real database (SQLite, and
PostgreSQL when reachable): the same numbers whatever the dialect."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from hotline.services.intake.reports import (
    Thresholds,
    docx_report,
    markdown_report,
    social_concerns_sentence,
    xlsx_report,
)
from hotline.services.intake.stats import statistics, trend_points
from hotline.shared.db import CaseRow, DeadlineRow, transaction
from hotline.shared.rollups import rebuild

NOW = datetime(2016, 12, 31, 8, 0, tzinfo=UTC)
START = datetime(2016, 1, 4, 1, 0, tzinfo=UTC)  # 09:00 Beijing time


def case(channel: str, **overrides: Any) -> dict[str, Any]:
    """A case row plus `due_at`, the response clock (None: no clock)."""
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "query_code": uuid.uuid4().hex[:12],
        "channel": channel,
        "received_at": START,
        "created_at": START,
        "updated_at": START,
        "content": "路灯坏了",
        "details": {},
        "status": "tracked",
        "outcome": None,
        "unit_name": "县住建局",
        "topic": "城乡建设",
        "subtopic": None,
        "township": "城厢镇",
        "answered_at": None,
        "verdict": None,
        "needs_review": False,
        "repeat_count": 0,
        "due_at": START + timedelta(hours=48),
    }
    values.update(overrides)
    return values


async def store(sessions: Any, cases: list[dict[str, Any]]) -> None:
    deadlines = [
        {
            "case_id": c["id"],
            "name": "respond",
            "label": "48小时内答复",
            "unit_of_time": "hours",
            "channel": c["channel"],
            "unit_code": "zjj",
            "received_at": c["received_at"],
            "starts_at": c["received_at"],
            "due_at": c["due_at"],
            "state": "open",
            "step": 0,
            "paused_seconds": 0,
            "source_event_id": uuid.uuid4(),
        }
        for c in cases
        if c["due_at"] is not None
    ]
    rows = [{k: v for k, v in c.items() if k != "due_at"} for c in cases]
    async with transaction(sessions) as session:
        for start in range(0, len(rows), 1000):
            await session.execute(insert(CaseRow), rows[start : start + 1000])
        for start in range(0, len(deadlines), 1000):
            await session.execute(insert(DeadlineRow), deadlines[start : start + 1000])
        await rebuild(session)  # rows stored straight into the tables: the rollups are counted afresh


async def stats_for(sessions: Any, **period: date) -> dict[str, Any]:
    async with sessions() as session:
        return await statistics(session, now=NOW, **period)


def anxi_2016() -> list[dict[str, Any]]:
    """The 安溪县 2016 figures: 893 calls (358 answered on the spot, 535 transferred), 1136 petitions all
    answered, 26 media mentions answered."""
    answered = START + timedelta(hours=20)
    on_spot = [
        case("hotline", outcome="answered_on_spot", unit_name=None, answered_at=START, due_at=None, status="answered")
        for _ in range(358)
    ]
    transferred = [case("hotline", outcome="transfer", answered_at=answered, status="answered") for _ in range(535)]
    petitions = [case("petition", answered_at=answered, status="answered", unit_name="县信访局") for _ in range(1136)]
    media = [case("media", answered_at=answered, status="answered", unit_name="县网信办") for _ in range(26)]
    return on_spot + transferred + petitions + media


async def test_the_report_sentence_reproduces_the_seed_report(sessions: Any) -> None:
    await store(sessions, anxi_2016())
    stats = await stats_for(sessions)
    assert social_concerns_sentence(stats) == (
        "共接听热线电话893个，当场解释358项，转交有关单位办理535项；共受理群众信访1136件，答复率100%；共回应舆情26次。"
    )
    # Answers given 20 hours after a 09:00 receipt fall on the next Beijing day.
    assert stats["trend"] == [
        {"date": "2016-01-04", "received": 2055, "answered": 358},
        {"date": "2016-01-05", "received": 0, "answered": 1697},
    ]


def test_a_trend_longer_than_a_year_is_given_by_month() -> None:
    year = {"2024-01-01": {"received": 2, "answered": 1}, "2024-12-31": {"received": 1, "answered": 0}}
    assert trend_points(year) == ("day", [{"date": day, **counts} for day, counts in year.items()])
    longer = {**year, "2025-01-31": {"received": 4, "answered": 5}, "2025-01-01": {"received": 0, "answered": 2}}
    assert trend_points(longer) == (
        "month",
        [
            {"date": "2024-01-01", "received": 2, "answered": 1},
            {"date": "2024-12-01", "received": 1, "answered": 0},
            {"date": "2025-01-01", "received": 4, "answered": 7},
        ],
    )
    assert trend_points({}) == ("day", [])


async def test_rates_follow_their_definitions(sessions: Any) -> None:
    late = START + timedelta(hours=60)
    await store(
        sessions,
        [
            case("hotline", answered_at=START + timedelta(hours=10), status="closed", verdict="满意"),
            case("hotline", answered_at=late, status="answered", verdict="不满意"),  # after its clock ran out
            case("hotline"),  # clock ran out, not answered: overdue
            case("hotline", due_at=NOW + timedelta(hours=1)),  # not yet due
        ],
    )
    overall = (await stats_for(sessions))["overall"]
    assert (overall["due"], overall["answered"], overall["overdue"], overall["open"]) == (3, 2, 1, 2)
    assert overall["response_rate"] == round(100 * 2 / 3, 2)
    assert overall["on_time_rate"] == round(100 * 1 / 3, 2)
    assert overall["finish_rate"] == 25.0
    assert overall["satisfaction_rate"] == 50.0 and overall["participation_rate"] == 100.0


async def test_periods_are_beijing_calendar_days(sessions: Any) -> None:
    # 23:30 Beijing on 4 January is still 4 January, although it is 15:30 UTC.
    late_evening = datetime(2016, 1, 4, 15, 30, tzinfo=UTC)
    next_morning = datetime(2016, 1, 4, 16, 30, tzinfo=UTC)  # 00:30 Beijing on 5 January
    await store(sessions, [case("hotline", received_at=late_evening), case("hotline", received_at=next_morning)])
    day = date(2016, 1, 4)
    assert (await stats_for(sessions, start=day, end=day))["overall"]["received"] == 1
    trend = (await stats_for(sessions))["trend"]
    assert [(t["date"], t["received"]) for t in trend] == [("2016-01-04", 1), ("2016-01-05", 1)]


async def test_the_notice_names_units_under_the_thresholds(sessions: Any) -> None:
    cases = [case("hotline", unit_name="县城管局", answered_at=START, verdict="满意") for _ in range(10)]
    cases += [case("hotline", unit_name="县住建局", answered_at=START if i < 9 else None) for i in range(10)]
    await store(sessions, cases)
    report = markdown_report(await stats_for(sessions), thresholds=Thresholds(response_rate=92, satisfaction_rate=85))
    assert "1. 县城管局：答复率100%" in report and "2. 县住建局：答复率90%" in report
    assert "- 县住建局答复率90%，低于92%" in report
    assert "县城管局答复率" not in report.split("予以通报")[1]


async def test_spreadsheet_and_document_reports_open_and_carry_the_numbers(sessions: Any) -> None:
    from docx import Document
    from openpyxl import load_workbook

    await store(sessions, anxi_2016())
    stats = await stats_for(sessions)
    workbook = load_workbook(io.BytesIO(xlsx_report(stats)))
    assert workbook.sheetnames[:2] == ["概况", "按渠道"]
    assert workbook["概况"]["A2"].value == social_concerns_sentence(stats)
    document = Document(io.BytesIO(docx_report(stats)))
    assert any(social_concerns_sentence(stats) == p.text for p in document.paragraphs)
