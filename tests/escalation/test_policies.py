"""Deadline policies from clocks.toml and the deadlines they give a case (信访工作条例, 民法典)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from hotline.services.escalation.policies import (
    DEFAULT_POLICY_PATH,
    ClockPolicy,
    Policies,
    compute_deadlines,
    due_at,
    extended_due_at,
    load_policies,
)
from hotline.shared.clock import SHANGHAI
from hotline.shared.domain.calendar import CalendarGapError, WorkCalendar, default_calendar
from hotline.shared.events import Channel, Severity

CAL = default_calendar()
POLICIES = load_policies()
SEVERITIES = [s.value for s in Severity]


def bj(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def end_of(year: int, month: int, day: int) -> datetime:
    return (bj(year, month, day) + timedelta(days=1)).astimezone(UTC)


def deadlines(
    channel: str, severity: str, received_at: datetime, category: str | None = None, **kwargs: datetime
) -> dict[str, datetime]:
    computed = compute_deadlines(
        channel=channel,
        severity=severity,
        received_at=received_at,
        policies=POLICIES,
        calendar=CAL,
        category=category,
        **kwargs,
    )
    return {d.name: d.due_at for d in computed}


# ---------------------------------------------------------------- the default file


def test_default_file_sits_next_to_the_module_and_loads() -> None:
    assert DEFAULT_POLICY_PATH.name == "clocks.toml"
    assert DEFAULT_POLICY_PATH.is_file()
    assert load_policies(DEFAULT_POLICY_PATH) == POLICIES


def test_every_default_clock_names_its_source_and_has_a_chinese_label() -> None:
    for rule in POLICIES.rules:
        assert rule.policy.source
        assert any("\u4e00" <= ch <= "\u9fff" for ch in rule.policy.label), rule.policy.label


@pytest.mark.parametrize("severity", SEVERITIES)
def test_hotline_clocks_are_sign_respond_finish(severity: str) -> None:
    clocks = POLICIES.clocks_for(channel="hotline", severity=severity)
    assert [(c.name, c.label, c.amount, c.unit) for c in clocks] == [
        ("sign", "2小时内签收", 2, "hours"),
        ("respond", "48小时内答复", 48, "hours"),
        ("finish", "5个工作日内办结", 5, "workdays"),
    ]


@pytest.mark.parametrize("severity", SEVERITIES)
def test_petition_clocks_are_accept_and_finish(severity: str) -> None:
    clocks = POLICIES.clocks_for(channel="petition", severity=severity)
    assert [(c.name, c.amount, c.unit, c.starts_on) for c in clocks] == [
        ("accept", 15, "days", "received"),
        ("finish", 60, "days", "accepted"),
    ]
    assert "信访工作条例" in clocks[0].source
    assert "第三十四条" in clocks[1].source


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        ("一般", [("respond", 48)]),
        ("较大", [("respond", 48)]),
        ("重大", [("respond", 48), ("first_release", 5), ("press_conference", 24)]),
        ("特别重大", [("respond", 48), ("first_release", 5), ("press_conference", 24)]),
    ],
)
def test_media_clocks_depend_on_severity(severity: str, expected: list[tuple[str, float]]) -> None:
    clocks = POLICIES.clocks_for(channel="media", severity=severity)
    assert [(c.name, c.amount) for c in clocks] == expected
    assert all(c.unit == "hours" for c in clocks)
    assert all("国办发〔2016〕61号" in c.source for c in clocks)


def test_extensions_are_recorded_on_the_finishing_clocks() -> None:
    [hotline_finish] = [c for c in POLICIES.clocks_for(channel="hotline", severity="一般") if c.name == "finish"]
    assert hotline_finish.extension is not None
    assert (hotline_finish.extension.amount, hotline_finish.extension.unit) == (10, "workdays")
    petition_finish = POLICIES.clock(channel="petition", name="finish")
    assert petition_finish.extension is not None
    assert (petition_finish.extension.amount, petition_finish.extension.unit, petition_finish.extension.times) == (
        30,
        "days",
        1,
    )
    assert POLICIES.clock(channel="hotline", name="respond").extension is None


def test_review_and_recheck_clocks_exist_but_are_not_put_on_a_new_case() -> None:
    for name, starts_on in [
        ("review_window", "replied"),
        ("review", "review_requested"),
        ("recheck_window", "review_replied"),
        ("recheck", "recheck_requested"),
    ]:
        policy = POLICIES.clock(channel="petition", name=name)
        assert (policy.amount, policy.unit, policy.starts_on) == (30, "days", starts_on)
    later = POLICIES.clocks_for(channel="petition", severity="一般", starts_on=frozenset({"review_requested"}))
    assert [c.name for c in later] == ["review"]
    with pytest.raises(KeyError):
        POLICIES.clock(channel="media", name="review")


def test_enum_members_are_accepted_and_unknown_values_rejected() -> None:
    assert POLICIES.clocks_for(channel=Channel.MEDIA, severity=Severity.MAJOR) == POLICIES.clocks_for(
        channel="media", severity="重大"
    )
    with pytest.raises(ValueError, match="unknown channel"):
        POLICIES.clocks_for(channel="email", severity="一般")
    with pytest.raises(ValueError, match="unknown severity"):
        POLICIES.clocks_for(channel="hotline", severity="IV")


# ---------------------------------------------------------------- due_at and compute_deadlines


def test_due_at_dispatches_on_the_unit() -> None:
    start = bj(2026, 9, 30, 10)
    hours = ClockPolicy(name="x", label="48小时", amount=48, unit="hours", source="s")
    days = ClockPolicy(name="x", label="15日", amount=15, unit="days", source="s")
    workdays = ClockPolicy(name="x", label="5个工作日", amount=5, unit="workdays", source="s")
    assert due_at(hours, start, CAL) == bj(2026, 10, 2, 10)
    assert due_at(days, start, CAL) == end_of(2026, 10, 15)
    assert due_at(workdays, start, CAL) == end_of(2026, 10, 13)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_hotline_transfer_on_the_eve_of_national_day(severity: str) -> None:
    received = bj(2026, 9, 30, 10)
    assert deadlines("hotline", severity, received) == {
        "sign": bj(2026, 9, 30, 12),
        "respond": bj(2026, 10, 2, 10),  # wall clock, through the holiday
        "finish": end_of(2026, 10, 13),  # 2026-09-30 + 5 工作日
    }


def test_hotline_transfer_before_spring_festival() -> None:
    # Friday 2026-02-13: 02-14 (调休 Saturday), then 02-24..27 after the 春节 break.
    assert deadlines("hotline", "一般", bj(2026, 2, 13, 16))["finish"] == end_of(2026, 2, 27)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_petition_letter_received_before_national_day(severity: str) -> None:
    received = bj(2026, 9, 20, 9)
    assert deadlines("petition", severity, received) == {
        "accept": end_of(2026, 10, 8),  # 10-05 falls in 国庆 -> next working day
        "finish": end_of(2026, 11, 19),  # 60 日 from receipt while acceptance is unknown
    }


def test_petition_finish_counts_from_acceptance_when_known() -> None:
    received = bj(2026, 9, 20, 9)
    computed = compute_deadlines(
        channel="petition",
        severity="一般",
        received_at=received,
        accepted_at=bj(2026, 9, 30, 15),
        policies=POLICIES,
        calendar=CAL,
    )
    by_name = {d.name: d for d in computed}
    assert by_name["accept"].starts_at == received
    assert by_name["finish"].starts_at == bj(2026, 9, 30, 15)
    # 2026-09-30 + 60 日 = Sunday 11-29 -> Monday 11-30
    assert by_name["finish"].due_at == end_of(2026, 11, 30)


def test_petition_letter_posted_days_ago_counts_from_its_receipt() -> None:
    # A letter logged on 2026-11-03 that the office received on 2026-10-26 (a Monday).
    assert deadlines("petition", "一般", bj(2026, 10, 26, 9)) == {
        "accept": end_of(2026, 11, 10),
        "finish": end_of(2026, 12, 25),
    }


def test_petition_deadline_in_an_unannounced_year_raises_for_an_alert() -> None:
    with pytest.raises(CalendarGapError) as caught:
        deadlines("petition", "一般", bj(2026, 11, 15, 9))
    assert caught.value.year == 2027


def test_petition_deadline_in_a_covered_year_uses_the_overrides() -> None:
    calendar = WorkCalendar(overrides={date(2027, 1, 14): False}, covered_years=frozenset({2027}))
    computed = compute_deadlines(
        channel="petition", severity="一般", received_at=bj(2026, 11, 15, 9), policies=POLICIES, calendar=calendar
    )
    # 11-15 + 60 日 = Thursday 2027-01-14, declared a rest day -> Friday 01-15
    assert {d.name: d.due_at for d in computed}["finish"] == end_of(2027, 1, 15)


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        ("一般", {"respond": 48}),
        ("较大", {"respond": 48}),
        ("重大", {"respond": 48, "first_release": 5, "press_conference": 24}),
        ("特别重大", {"respond": 48, "first_release": 5, "press_conference": 24}),
    ],
)
def test_media_deadlines_are_wall_clock_hours(severity: str, expected: dict[str, int]) -> None:
    received = bj(2026, 10, 1, 20)  # a holiday evening changes nothing
    got = deadlines("media", severity, received)
    assert {name: (due - received) / timedelta(hours=1) for name, due in got.items()} == expected


def test_media_clocks_work_in_a_year_without_calendar_data() -> None:
    assert deadlines("media", "重大", bj(2027, 2, 10, 8))["first_release"] == bj(2027, 2, 10, 13)


def test_computed_deadline_carries_everything_the_case_view_shows() -> None:
    received = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    [sign, respond, finish] = compute_deadlines(
        channel="hotline", severity="一般", received_at=received, policies=POLICIES, calendar=CAL
    )
    assert respond.name == "respond"
    assert respond.label == "48小时内答复"
    assert respond.unit_of_time == "hours"
    assert respond.starts_at == received
    assert respond.due_at == received + timedelta(hours=48)  # same as the foundation rule
    assert finish.unit_of_time == "workdays"
    assert finish.due_at.tzinfo is UTC
    assert sign.source and respond.source and finish.source


def test_naive_received_at_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        deadlines("hotline", "一般", datetime(2026, 9, 30, 10))


# ---------------------------------------------------------------- extensions


def test_petition_extension_of_at_most_30_days() -> None:
    finish = POLICIES.clock(channel="petition", name="finish")
    original = end_of(2026, 11, 30)
    # 11-30 + 30 日 = Wednesday 12-30
    assert extended_due_at(finish, original, CAL) == end_of(2026, 12, 30)
    assert extended_due_at(finish, original, CAL, 10) == end_of(2026, 12, 10)
    with pytest.raises(ValueError, match="at most 30日"):
        extended_due_at(finish, original, CAL, 31)


def test_hotline_extension_of_at_most_10_workdays() -> None:
    finish = POLICIES.clock(channel="hotline", name="finish")
    # From 10-13: 10-14..16, 10-19..23, 10-26, 10-27 are the 10 working days.
    assert extended_due_at(finish, end_of(2026, 10, 13), CAL) == end_of(2026, 10, 27)
    with pytest.raises(ValueError, match="at most 10工作日"):
        extended_due_at(finish, end_of(2026, 10, 13), CAL, 11)


def test_a_clock_without_extension_cannot_be_extended() -> None:
    with pytest.raises(ValueError, match="cannot be extended"):
        extended_due_at(POLICIES.clock(channel="media", name="respond"), bj(2026, 10, 2, 10), CAL)


# ---------------------------------------------------------------- custom and invalid files

BASE = """
[[clock]]
channel = "hotline"
name = "respond"
label = "48小时内答复"
amount = 48
unit = "hours"
source = "test"

[[clock]]
channel = "media"
name = "respond"
label = "48小时内回应"
amount = 48
unit = "hours"
source = "test"

[[clock]]
channel = "hotline"
name = "finish"
label = "5个工作日内办结"
amount = 5
unit = "workdays"
source = "test"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "clocks.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_category_and_severity_specific_entries_override_the_general_one(tmp_path: Path) -> None:
    extra = """
[[clock]]
channel = "hotline"
name = "finish"
label = "15个工作日内办结"
amount = 15
unit = "workdays"
categories = ["投诉举报"]
source = "广东 投诉举报 15 工作日"

[[clock]]
channel = "hotline"
name = "finish"
label = "2小时内处置"
amount = 2
unit = "hours"
severities = ["重大", "特别重大"]
source = "紧急类 2 小时"
"""
    policies = load_policies(write(tmp_path, BASE + extra))

    def finish(severity: str, category: str | None) -> float:
        [policy] = [
            c
            for c in policies.clocks_for(channel="hotline", severity=severity, category=category)
            if c.name == "finish"
        ]
        return policy.amount

    assert finish("一般", None) == 5
    assert finish("一般", "咨询") == 5
    assert finish("一般", "投诉举报") == 15
    assert finish("重大", None) == 2
    assert finish("重大", "投诉举报") == 15  # a category rule is the more specific one
    # order follows the file: respond first, then finish
    assert [c.name for c in policies.clocks_for(channel="hotline", severity="一般")] == ["respond", "finish"]


def test_compute_deadlines_with_a_custom_policy(tmp_path: Path) -> None:
    policies = load_policies(write(tmp_path, BASE))
    computed = compute_deadlines(
        channel="media", severity="特别重大", received_at=bj(2026, 9, 30, 10), policies=policies, calendar=CAL
    )
    assert [d.name for d in computed] == ["respond"]
    assert isinstance(policies, Policies)


ENTRY = """
[[clock]]
channel = "petition"
name = "accept"
label = "15日内告知"
amount = 15
unit = "days"
source = "信访工作条例"
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (BASE + "[[clock]\n", "not valid TOML"),
        (BASE + ENTRY.replace('unit = "days"', 'unit = "weeks"'), "unit must be one of"),
        (BASE + ENTRY.replace("amount = 15", "amount = -15"), "amount must be a positive number"),
        (BASE + ENTRY.replace("amount = 15", "amount = 0"), "amount must be a positive number"),
        (BASE + ENTRY.replace("amount = 15", 'amount = "15"'), "amount must be a positive number"),
        (BASE + ENTRY.replace("amount = 15", "amount = 2.5"), "whole number"),
        (BASE + ENTRY.replace("amount = 15", "ammount = 15"), "unknown keys"),
        (BASE + ENTRY.replace('channel = "petition"', 'channel = "wechat"'), "channel must be one of"),
        (BASE + ENTRY.replace('source = "信访工作条例"', ""), "source must be a non-empty string"),
        (BASE + ENTRY.replace('label = "15日内告知"', 'label = "  "'), "label must be a non-empty string"),
        (BASE + ENTRY.replace('name = "accept"', 'name = "Accept Now"'), "lower_snake_case"),
        (BASE + ENTRY + 'severities = ["IV"]\n', "unknown severities"),
        (BASE + ENTRY + "severities = []\n", "leave it out"),
        (BASE + ENTRY + 'starts_on = "tomorrow"\n', "starts_on must be one of"),
        (BASE + ENTRY + ENTRY, "two equally specific entries"),
        (BASE + ENTRY + ENTRY.replace("unit", 'starts_on = "accepted"\nunit'), "same starts_on"),
        (BASE + ENTRY + '[clock.extension]\namount = 30\nunit = "days"\n', "extension: source"),
        (BASE + ENTRY + '[clock.extension]\namount = 30\nunit = "days"\ntimes = 0\nsource = "x"\n', "times"),
        (BASE.replace('channel = "media"', 'channel = "petition"'), "channel 'media' needs a general clock"),
        (BASE, None),
        ("", "no \\[\\[clock\\]\\] entries"),
        ('title = "clocks"\n' + BASE, "unknown top-level keys"),
    ],
)
def test_invalid_policy_files_raise_clear_value_errors(tmp_path: Path, text: str, message: str | None) -> None:
    path = write(tmp_path, text)
    if message is None:
        load_policies(path)  # control case: BASE alone is valid
        return
    with pytest.raises(ValueError, match=message) as caught:
        load_policies(path)
    assert str(path) in str(caught.value)


def test_equally_specific_entries_for_disjoint_severities_are_fine(tmp_path: Path) -> None:
    major = ENTRY + 'severities = ["重大", "特别重大"]\n'
    minor = ENTRY.replace("amount = 15", "amount = 10") + 'severities = ["一般", "较大"]\n'
    policies = load_policies(write(tmp_path, BASE + major + minor))
    assert [c.amount for c in policies.clocks_for(channel="petition", severity="较大")] == [10]
    assert [c.amount for c in policies.clocks_for(channel="petition", severity="重大")] == [15]
