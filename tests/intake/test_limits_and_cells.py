"""The pure rules behind hostile input: plausible dates and periods, control characters, safe
spreadsheet cells, and how an exception becomes an HTTP answer."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import nats.errors
import pydantic
import pytest
from sqlalchemy import exc as sa
from sqlalchemy import text

from hotline.services.intake.cells import safe_cell, safe_row, xml_safe
from hotline.services.intake.errors import DATABASE_DOWN, NATS_DOWN, TIMED_OUT, error_body, unavailable
from hotline.services.intake.limits import (
    has_control_chars,
    parameter_problems,
    period_problems,
    receipt_time_problem,
    strip_control_chars,
)
from hotline.services.intake.routes_work import AnswerBody
from hotline.services.intake.schemas import CallIn, chinese_error

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
CALL = {"phone": "13859612345", "content": "路灯坏了", "outcome": "transfer"}


@pytest.mark.parametrize(
    ("moment", "problem"),
    [
        (NOW, None),
        (NOW - timedelta(days=3650), None),
        (NOW + timedelta(minutes=9), None),
        (NOW + timedelta(minutes=11), "不能晚于当前时间"),
        (datetime(1999, 12, 31, 23, 59, tzinfo=UTC), "早于系统受理的最早日期"),
    ],
)
def test_receipt_time_window(moment: datetime, problem: str | None) -> None:
    assert receipt_time_problem(moment, NOW) == problem


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-08:00", "1999-06-01T00:00:00"])
def test_receipt_years_outside_the_window_are_refused_before_any_time_zone_arithmetic(value: str) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        CallIn.model_validate({**CALL, "received_at": value})
    message = chinese_error(dict(caught.value.errors()[0]))["message"]
    assert message.startswith("受理时间（received_at）超出允许范围") and "2000-01-01" in message


def test_periods_stay_within_2000_to_2100_and_run_forwards() -> None:
    assert period_problems(None, None) == []
    assert period_problems(date(2026, 11, 1), date(2026, 11, 30)) == []
    assert [p["field"] for p in period_problems(date(1, 1, 1), date(9999, 12, 31))] == ["from", "to"]
    backwards = period_problems(date(2026, 12, 1), date(2026, 11, 1))
    assert backwards == [{"field": "from", "message": "起始日期（from）不能晚于截止日期（to）"}]


def test_control_characters_are_recognised_but_tab_and_newlines_are_text() -> None:
    assert not has_control_chars("第一行\n第二行\r\n\t缩进")
    for bad in ("\x00", "a\x07b", "\x1b[31m", "\ud800"):
        assert has_control_chars(bad), repr(bad)
    assert strip_control_chars("路灯\x00坏了\x0b两个月") == "路灯坏了两个月"
    assert parameter_problems([("unit", "ok"), ("text", "a\x00")]) == [
        {"field": "text", "message": "参数 text 含有不可见的控制字符（如 NUL），请删除后重试"}
    ]


def test_free_text_loses_control_characters_and_other_fields_are_refused_by_name() -> None:
    call = CallIn.model_validate({**CALL, "content": "路灯\x00坏了\x01"})
    assert call.content == "路灯坏了"
    assert AnswerBody.model_validate({"answer": "已\x00修复"}).answer == "已修复"
    with pytest.raises(pydantic.ValidationError) as caught:
        CallIn.model_validate({**CALL, "caller_name": "林\x00先生"})
    error = chinese_error(dict(caught.value.errors()[0]))
    assert error["field"] == "caller_name" and "控制字符" in error["message"]
    with pytest.raises(pydantic.ValidationError) as emptied:  # nothing left once stripped
        CallIn.model_validate({**CALL, "content": "\x00\x00"})
    assert "不能为空" in chinese_error(dict(emptied.value.errors()[0]))["message"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x","点击")', '\'=HYPERLINK("http://x","点击")'),
        ("+86 138", "'+86 138"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("  =1+1", "'  =1+1"),
        ("\t=1+1", "'\t=1+1"),
        ("\r\n=1", "'\r\n=1"),
        ("\x00=1", "'=1"),
        ("路灯坏了", "路灯坏了"),
        ("a\x00b\x1fc", "abc"),
        (-3, -3),
        (12.5, 12.5),
        (None, None),
    ],
)
def test_cells_are_never_formulas_and_hold_only_xml_characters(value: object, expected: object) -> None:
    assert safe_cell(value) == expected


def test_a_safe_row_can_be_written_to_xlsx() -> None:
    from openpyxl import Workbook
    from openpyxl.utils.exceptions import IllegalCharacterError

    sheet = Workbook().active
    with pytest.raises(IllegalCharacterError):  # what broke the export for everyone
        sheet.append(["\x00"])
    sheet.append(safe_row(["\x00坏了", "=1+1"]))
    assert [c.value for c in sheet[sheet.max_row]] == ["坏了", "'=1+1"]
    assert xml_safe("\ufffe") == ""


def test_http_errors_carry_a_chinese_message_and_keep_their_detail() -> None:
    assert error_body(404, "案件不存在") == {"message": "案件不存在", "detail": "案件不存在"}
    fields = [{"field": "from", "message": "起始日期有误"}, {"field": "to", "message": "截止日期有误"}]
    assert error_body(422, fields) == {"message": "起始日期有误；截止日期有误", "detail": fields}
    assert error_body(404, "Not Found") == {"message": "接口或资源不存在", "detail": "接口或资源不存在"}
    parsing = error_body(400, "There was an error parsing the body")
    assert (
        parsing["message"].startswith("请求格式不正确") and parsing["detail"] == "There was an error parsing the body"
    )


def _database_error(url: str) -> BaseException:
    from hotline.shared.db import create_engine

    async def attempt() -> BaseException:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as exc:
            return exc
        finally:
            await engine.dispose()
        raise AssertionError("the database answered")

    return asyncio.run(attempt())


def test_database_and_nats_failures_are_503_and_bugs_are_not(tmp_path: Path) -> None:
    with pytest.raises(sqlite3.OperationalError) as missing:
        sqlite3.connect(tmp_path / "no" / "such" / "dir.db")
    assert unavailable(sa.OperationalError("connect", {}, missing.value)) == DATABASE_DOWN
    refused = _database_error("postgresql+asyncpg://postgres@127.0.0.1:1/none")  # nothing listens on port 1
    assert unavailable(refused) == DATABASE_DOWN
    no_database = _database_error("postgresql+asyncpg://postgres@127.0.0.1:5432/hotline_no_such_database")
    assert isinstance(no_database, sa.DBAPIError | OSError)
    if isinstance(no_database, sa.DBAPIError):  # PostgreSQL answered: it has no such database
        assert unavailable(no_database) == DATABASE_DOWN
    assert unavailable(sa.TimeoutError("QueuePool limit reached")) == DATABASE_DOWN
    several = OSError("Multiple exceptions: [Errno 111] Connect call failed ('::1', 1), [Errno 111] ...")
    assert unavailable(several) == DATABASE_DOWN
    assert unavailable(socket.gaierror(-2, "Name or service not known")) == DATABASE_DOWN
    assert unavailable(OSError(28, "No space left on device")) is None
    assert unavailable(sa.OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked"))) == (
        DATABASE_DOWN
    )
    assert unavailable(nats.errors.NoServersError()) == NATS_DOWN
    assert unavailable(nats.errors.TimeoutError()) == NATS_DOWN
    assert unavailable(TimeoutError()) == TIMED_OUT
    assert unavailable(ValueError("a bug")) is None
    assert unavailable(sa.IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE"))) is None
