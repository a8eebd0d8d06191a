"""The plausible ranges of what the API takes in: dates, periods, characters. Pure functions, plus the
FastAPI dependencies that apply them and answer 422 in the API's error shape.

Why bounds at all: a receipt time in year 0001 starts clocks that ran out two thousand years ago (every
escalation step fires at once), and dates near year 1 or 9999 overflow when shifted by a time zone or
a day. The window is wide enough for any real backlog and narrow enough to catch typos.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import HTTPException, Query, Request

EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)
# Operators log calls a little after they happen; a receipt time further ahead than this is a typo.
FUTURE_TOLERANCE = timedelta(minutes=10)
# An offset reads and skips every row before it: deeper pages are asked with a cursor (keyset.py).
MAX_OFFSET = 10_000
MAX_ID = 2**62  # below every database's BIGINT

# C0 control characters but tab, line feed and carriage return; lone surrogates (no valid UTF-8).
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
CONTROL_MESSAGE = "含有不可见的控制字符（如 NUL），请删除后重试"


def has_control_chars(value: str) -> bool:
    return _FORBIDDEN.search(value) is not None


def strip_control_chars(value: str) -> str:
    return _FORBIDDEN.sub("", value)


def nested_has_control_chars(value: Any) -> bool:
    """Strings anywhere in a value: list items, dict keys and values."""
    if isinstance(value, str):
        return has_control_chars(value)
    if isinstance(value, dict):
        return any(nested_has_control_chars(k) or nested_has_control_chars(v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(nested_has_control_chars(item) for item in value)
    return False


def window_text() -> str:
    minutes = int(FUTURE_TOLERANCE.total_seconds() // 60)
    return (
        f"应在 {EARLIEST.isoformat()} 之后，且不能晚于当前时间 {minutes} 分钟以上"
        "（更早或更晚的时间多为录入错误，请核对年份）"
    )


def plausible_year(moment: datetime) -> datetime:
    """Pydantic validator: refuse years outside the window before any time-zone arithmetic can overflow."""
    if not EARLIEST.year <= moment.year <= LATEST.year:
        raise ValueError(f"超出允许范围：{window_text()}")
    return moment


def receipt_time_problem(moment: datetime, now: datetime) -> str | None:
    """Why a UTC receipt/publication time is implausible at `now`, or None when it is fine."""
    if moment > now + FUTURE_TOLERANCE:
        return "不能晚于当前时间"
    if moment.date() < EARLIEST:
        return "早于系统受理的最早日期"
    return None


def period_problems(start: date | None, end: date | None) -> list[dict[str, str]]:
    """The {field, message} errors of a statistics/report/export period (Beijing days, both inclusive)."""
    problems = [
        {"field": name, "message": f"{label}（{name}）超出允许范围：应在 {EARLIEST} 至 {LATEST} 之间"}
        for name, label, day in (("from", "起始日期", start), ("to", "截止日期", end))
        if day is not None and not EARLIEST <= day <= LATEST
    ]
    if not problems and start is not None and end is not None and start > end:
        problems.append({"field": "from", "message": "起始日期（from）不能晚于截止日期（to）"})
    return problems


Period = tuple[date | None, date | None]


async def period(
    start: Annotated[
        date | None, Query(alias="from", description="起始日期（含），北京时间，2000-01-01 至 2100-12-31")
    ] = None,
    end: Annotated[date | None, Query(alias="to", description="截止日期（含），北京时间，不早于起始日期")] = None,
) -> Period:
    """Dependency: the period of a statistics, report or export request, checked."""
    problems = period_problems(start, end)
    if problems:
        raise HTTPException(422, detail=problems)
    return start, end


def parameter_problems(params: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    return [
        {"field": name, "message": f"参数 {name} {CONTROL_MESSAGE}"}
        for name, value in params
        if has_control_chars(name) or has_control_chars(value)
    ]


async def refuse_control_chars(request: Request) -> None:
    """App-wide dependency: no query or path parameter may hold control characters (PostgreSQL refuses
    NUL outright; elsewhere they only hide what a value really is)."""
    problems = parameter_problems(
        [*request.query_params.multi_items(), *((k, str(v)) for k, v in request.path_params.items())]
    )
    if problems:
        raise HTTPException(422, detail=problems)
