"""The task steps as plain rules."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from hotline.services.intake.workflow import (
    WorkflowError,
    accused_refusal,
    check_review,
    check_step,
    return_deadline,
)
from hotline.shared.db import TaskRow
from hotline.shared.domain.calendar import parse_overrides
from hotline.shared.domain.county import load_county

# Wednesday 2026-09-30, 10:00 Beijing: two working days later, across 国庆, is Friday 2026-10-09.
ASSIGNED = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)


def task(state: str) -> TaskRow:
    return TaskRow(id=uuid.uuid4(), case_id=uuid.uuid4(), unit_code="zjj", state=state, assigned_at=ASSIGNED)


def test_the_return_window_is_two_working_days_skipping_holidays() -> None:
    assert return_deadline(ASSIGNED) == datetime(2026, 10, 9, 16, 0, tzinfo=UTC)  # 24:00 Beijing, 9 October
    during_holiday = datetime(2026, 10, 5, 2, 0, tzinfo=UTC)
    assert check_step("return", task("pending"), now=during_holiday, returned_before=False) == "returned"
    with pytest.raises(WorkflowError, match="退回期限"):
        check_step("return", task("pending"), now=datetime(2026, 10, 10, 2, 0, tzinfo=UTC), returned_before=False)


def test_a_case_is_returned_once() -> None:
    with pytest.raises(WorkflowError, match="不能再次退回"):
        check_step("return", task("pending"), now=ASSIGNED, returned_before=True)


@pytest.mark.parametrize(
    ("action", "state", "after"),
    [
        ("sign", "pending", "signed"),
        ("answer", "signed", "answered"),
        ("pause", "signed", "paused"),
        ("resume", "paused", "signed"),
        ("close", "answered", "closed"),
    ],
)
def test_steps_follow_each_other(action: str, state: str, after: str) -> None:
    assert check_step(action, task(state), now=ASSIGNED, returned_before=False) == after


@pytest.mark.parametrize(("action", "state"), [("answer", "pending"), ("sign", "answered"), ("close", "signed")])
def test_a_step_out_of_order_is_refused_in_chinese(action: str, state: str) -> None:
    with pytest.raises(WorkflowError, match="不能执行该操作"):
        check_step(action, task(state), now=ASSIGNED, returned_before=False)


def test_an_accusation_is_never_dispatched_to_the_accused_unit() -> None:
    county = load_county()
    details = {"is_accusation": True, "accused_unit": "县教育局"}
    refusal = accused_refusal(details, county.units["jyj"], county)
    assert refusal is not None and "第三十条" in refusal and "县教育局" in refusal
    assert accused_refusal(details, county.units["zfb"], county) is None  # its supervisor may take it
    assert accused_refusal({**details, "is_accusation": False}, county.units["jyj"], county) is None


def test_the_return_window_honours_the_admins_calendar_and_unknown_years() -> None:
    # An admin marks Friday 2026-10-09 as a rest day: the window moves on to Saturday 10 October (调休).
    calendar = parse_overrides({"overrides": {"2026-10-09": False}})
    assert return_deadline(ASSIGNED, calendar) == datetime(2026, 10, 10, 16, 0, tzinfo=UTC)
    late = datetime(2026, 12, 31, 2, 0, tzinfo=UTC)  # Thursday; 元旦 2027 is not published yet
    # Fri 1 Jan 元旦 (statutory), weekend; Mon 4, Tue 5 → 24:00 Tue 5 January, not 48 hours.
    assert return_deadline(late) == datetime(2027, 1, 5, 16, 0, tzinfo=UTC)


def test_a_co_unit_gives_its_opinion_but_does_not_return_extend_or_pause() -> None:
    co_task = task("signed")
    co_task.role = "co"
    assert check_step("answer", co_task, now=ASSIGNED, returned_before=False) == "answered"
    for action in ("return", "extend", "pause"):
        with pytest.raises(WorkflowError, match="协办任务"):
            check_step(action, co_task, now=ASSIGNED, returned_before=False)


def test_a_review_is_requested_within_its_window_and_answered_once_requested() -> None:
    due = datetime(2027, 1, 4, 16, 0, tzinfo=UTC)
    window = {"review_window": ("open", due, "收到处理意见之日起30日内可请求复查")}
    assert check_review("review", "request", window, due - timedelta(days=1)) == "review_requested"
    with pytest.raises(WorkflowError, match=r"已超过复查请求期限.*第三十五条"):
        check_review("review", "request", window, due + timedelta(seconds=1))
    with pytest.raises(WorkflowError, match="尚无书面答复"):
        check_review("review", "request", {}, due)
    with pytest.raises(WorkflowError, match="没有待出具的复查意见"):
        check_review("review", "answer", window, due)
    requested = {"review_window": ("met", due, ""), "review": ("open", due + timedelta(days=30), "")}
    assert check_review("review", "answer", requested, due) == "review_answered"
    with pytest.raises(WorkflowError, match="已请求过复查"):
        check_review("review", "request", requested, due)
    with pytest.raises(WorkflowError, match="尚无复查意见"):
        check_review("recheck", "request", requested, due)
