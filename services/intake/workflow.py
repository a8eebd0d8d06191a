"""The unit's task life as plain rules: which step may follow which, and what a step changes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hotline.shared.db import TaskRow
from hotline.shared.domain.calendar import WorkCalendar, default_calendar, firm_or_provisional
from hotline.shared.domain.county import County, Unit, find_unit

# 退回 within 2 working days of assignment (山东 2020).
RETURN_WORKDAYS = 2
MAX_EXTENSION_DAYS = 30

ACTIONS: dict[str, tuple[frozenset[str], str]] = {
    # action: (states it may start from, state it leads to)
    "sign": (frozenset({"pending"}), "signed"),
    "answer": (frozenset({"signed"}), "answered"),
    "return": (frozenset({"pending", "signed"}), "returned"),
    "extend": (frozenset({"signed", "paused"}), ""),  # state unchanged; a dispatcher decides
    "pause": (frozenset({"signed"}), "paused"),
    "resume": (frozenset({"paused"}), "signed"),
    "close": (frozenset({"answered"}), "closed"),  # 办结
}
# A 协办 unit gives its opinion on its part (its own task and clock); the case itself, its returns,
# extensions and pauses belong to the 主办 unit.
CO_TASK_ACTIONS = frozenset({"sign", "answer", "close"})
EVENT_KIND = {
    "sign": "signed",
    "answer": "answered",
    "return": "returned",
    "extend": "extension_requested",
    "pause": "paused",
    "resume": "resumed",
    "close": "closed",
}
STATE_LABELS = {
    "pending": "待签收",
    "signed": "办理中",
    "paused": "挂起",
    "answered": "已答复",
    "returned": "已退回",
    "reassigned": "已改派",
    "closed": "已办结",
}


class WorkflowError(ValueError):
    """A step that is not allowed now; the message says why, in Chinese."""


def return_deadline(assigned_at: datetime, calendar: WorkCalendar | None = None) -> datetime:
    """End of the 2nd working day after assignment, on the calendar in force (the admin's overrides
    included); in a year nobody has entered yet, counted from the statutory holidays and weekends."""
    due, _ = firm_or_provisional(
        lambda cal: cal.add_workdays(assigned_at, RETURN_WORKDAYS), calendar or default_calendar()
    )
    return due


def check_step(
    action: str, task: TaskRow, *, now: datetime, returned_before: bool, calendar: WorkCalendar | None = None
) -> str:
    """The state the task moves to, or WorkflowError."""
    allowed_from, target = ACTIONS[action]
    if task.role == "co" and action not in CO_TASK_ACTIONS:
        raise WorkflowError("协办任务只能签收、提交协办意见和办结；退回、延期、挂起由主办单位办理")
    if task.state not in allowed_from:
        current = STATE_LABELS.get(task.state, task.state)
        raise WorkflowError(f"任务当前为「{current}」，不能执行该操作")
    if action == "return":
        if returned_before:
            raise WorkflowError("该案件已退回过一次，派单中心指定承办单位后不能再次退回")
        if now > return_deadline(task.assigned_at, calendar):
            raise WorkflowError(f"已超过退回期限（派单后{RETURN_WORKDAYS}个工作日内）")
    return target or task.state


def accused_refusal(details: Mapping[str, Any] | None, unit: Unit, county: County) -> str | None:
    """Why a person may not give a 检举/控告 to `unit` (it is the accused unit), or None."""
    details = details or {}
    accused_name = str(details.get("accused_unit") or "").strip()
    if not details.get("is_accusation") or not accused_name:
        return None
    accused = find_unit(accused_name, county)
    if accused is None or accused.code != unit.code:
        return None
    return (
        f"该件为检举、控告，被检举、控告对象为 {accused.name}；依据《信访工作条例》第三十条，"
        f"不得将检举、控告材料转交被检举、控告的对象，请改派其上级机关或纪检监察机关"
    )


# 复查 / 复核 (信访工作条例 第三十五、三十六条): (label, the petitioner's window, the organ's clock, article)
REVIEW_STAGES = {
    "review": ("复查", "review_window", "review", "第三十五条"),
    "recheck": ("复核", "recheck_window", "recheck", "第三十六条"),
}


def check_review(stage: str, action: str, clocks: Mapping[str, tuple[str, datetime, str]], now: datetime) -> str:
    """The event kind of a 复查/复核 request or opinion, or WorkflowError saying why not. `clocks` maps
    a clock name to (state, due_at, label) as the escalation service keeps them."""
    label, window, clock, article = REVIEW_STAGES[stage]
    if action == "request":
        found = clocks.get(window)
        if found is None:
            before = "书面答复" if stage == "review" else "复查意见"
            raise WorkflowError(f"该信访事项尚无{before}，不能请求{label}")
        state, due, window_label = found
        if state == "met":
            raise WorkflowError(f"已请求过{label}")
        if now > due:
            raise WorkflowError(f"已超过{label}请求期限（{window_label}，信访工作条例{article}）")
        return f"{stage}_requested"
    pending = clocks.get(clock)
    if pending is None or pending[0] == "met":
        raise WorkflowError(f"没有待出具的{label}意见")
    return f"{stage}_answered"
