"""Working-day arithmetic (民法典 第二百零一-二百零三条).

The 2026 holiday facts asserted here are the State Council's arrangement as shipped in chinese_calendar:
春节 2026-02-15..23 with 调休 working Saturdays 2026-02-14 and 2026-02-28; 中秋 2026-09-25..27;
国庆 2026-10-01..07 with 调休 working Saturday 2026-10-10.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import chinese_calendar
import pytest

from hotline.shared.clock import SHANGHAI
from hotline.shared.domain.calendar import (
    CalendarGapError,
    WorkCalendar,
    default_calendar,
    firm_or_provisional,
    gap_message,
    parse_overrides,
    statutory_holidays,
)

CAL = default_calendar()


def bj(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def end_of(year: int, month: int, day: int) -> datetime:
    """24:00 Beijing of the given day, in UTC."""
    return (bj(year, month, day) + timedelta(days=1)).astimezone(UTC)


def last_day(due: datetime) -> date:
    """The Beijing date a due moment closes (the instant before 24:00)."""
    return (due - timedelta(microseconds=1)).astimezone(SHANGHAI).date()


# ---------------------------------------------------------------- is_workday


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 2, 13), True),  # Friday before 春节
        (date(2026, 2, 14), True),  # 调休 Saturday
        (date(2026, 2, 15), False),  # 春节 starts (Sunday)
        (date(2026, 2, 17), False),  # 春节 weekday
        (date(2026, 2, 23), False),  # last day of 春节
        (date(2026, 2, 24), True),
        (date(2026, 2, 28), True),  # 调休 Saturday
        (date(2026, 3, 1), False),  # plain Sunday
        (date(2026, 10, 1), False),  # 国庆
        (date(2026, 10, 7), False),
        (date(2026, 10, 10), True),  # 调休 Saturday
        (date(2026, 10, 11), False),  # plain Sunday
    ],
)
def test_is_workday_follows_the_state_council_arrangement(day: date, expected: bool) -> None:
    assert CAL.is_workday(day) is expected


def test_a_year_without_data_raises_instead_of_guessing_monday_to_friday() -> None:
    with pytest.raises(CalendarGapError) as caught:
        CAL.is_workday(date(2027, 3, 3))  # an ordinary Wednesday, still unknown
    assert caught.value.year == 2027
    assert caught.value.day == date(2027, 3, 3)
    assert "2027" in str(caught.value)


def test_a_year_before_the_package_data_also_raises() -> None:
    with pytest.raises(CalendarGapError) as caught:
        CAL.is_workday(date(2003, 5, 6))
    assert caught.value.year == 2003


def test_override_wins_over_chinese_calendar() -> None:
    # e.g. a local typhoon closure declared a rest day
    calendar = WorkCalendar(overrides={date(2026, 10, 9): False}, covered_years=frozenset())
    assert calendar.is_workday(date(2026, 10, 9)) is False
    assert calendar.is_workday(date(2026, 10, 8)) is True


def test_override_of_an_uncovered_year_answers_only_for_its_own_days() -> None:
    calendar = WorkCalendar(overrides={date(2027, 1, 1): False}, covered_years=frozenset())
    assert calendar.is_workday(date(2027, 1, 1)) is False
    with pytest.raises(CalendarGapError):
        calendar.is_workday(date(2027, 1, 4))


def test_covered_year_uses_overrides_then_the_weekly_rule() -> None:
    # A hypothetical 2027 arrangement entered by the administrator.
    calendar = WorkCalendar(
        overrides={date(2027, 1, 1): False, date(2027, 2, 6): True},
        covered_years=frozenset({2027}),
    )
    assert calendar.is_workday(date(2027, 1, 1)) is False  # Friday, 元旦 override
    assert calendar.is_workday(date(2027, 1, 4)) is True  # Monday
    assert calendar.is_workday(date(2027, 1, 9)) is False  # Saturday
    assert calendar.is_workday(date(2027, 2, 6)) is True  # Saturday, 调休 override
    with pytest.raises(CalendarGapError):
        calendar.is_workday(date(2028, 1, 3))


def test_overrides_are_copied_so_later_edits_do_not_change_the_calendar() -> None:
    table = {date(2026, 10, 9): False}
    calendar = WorkCalendar(overrides=table, covered_years=frozenset())
    table[date(2026, 10, 9)] = True
    assert calendar.is_workday(date(2026, 10, 9)) is False


@pytest.mark.parametrize(
    "overrides",
    [
        {datetime(2027, 1, 1): False},  # a datetime key would never match
        {"2027-01-01": False},
        {date(2027, 1, 1): 0},
    ],
)
def test_invalid_overrides_are_rejected(overrides: dict[object, object]) -> None:
    with pytest.raises(ValueError, match="override"):
        WorkCalendar(overrides=overrides, covered_years=frozenset())  # type: ignore[arg-type]


# ---------------------------------------------------------------- add_workdays


def test_national_day_check_from_domain_md() -> None:
    due = CAL.add_workdays(bj(2026, 9, 30, 10), 5)
    # 10-08, 10-09, 10-10 (调休 Saturday), 10-12, 10-13
    assert due == end_of(2026, 10, 13)
    assert due == datetime(2026, 10, 13, 16, 0, tzinfo=UTC)
    assert due.tzinfo is UTC
    assert last_day(due) == date(2026, 10, 13)


def test_start_day_is_the_beijing_date_not_the_utc_date() -> None:
    # 2026-09-29 16:30 UTC is already 2026-09-30 00:30 in Beijing.
    due = CAL.add_workdays(datetime(2026, 9, 29, 16, 30, tzinfo=UTC), 5)
    assert due == end_of(2026, 10, 13)


def test_start_day_is_not_counted_even_late_at_night() -> None:
    assert CAL.add_workdays(bj(2026, 11, 24, 23, 59), 1) == end_of(2026, 11, 25)
    assert CAL.add_workdays(bj(2026, 11, 24, 0, 0), 1) == end_of(2026, 11, 25)


def test_workdays_across_spring_festival_count_the_tiaoxiu_saturday() -> None:
    # Friday 02-13 -> 02-14 (调休 Saturday) is day 1, the holiday 02-15..23 is skipped.
    assert CAL.add_workdays(bj(2026, 2, 13, 15), 3) == end_of(2026, 2, 25)
    # The 5-工作日 finishing clock of a call on the eve of the holiday.
    assert CAL.add_workdays(bj(2026, 2, 13, 15), 5) == end_of(2026, 2, 27)


def test_a_tiaoxiu_saturday_can_be_the_last_working_day() -> None:
    assert CAL.add_workdays(bj(2026, 2, 27, 9), 1) == end_of(2026, 2, 28)
    assert CAL.add_workdays(bj(2026, 10, 9, 9), 1) == end_of(2026, 10, 10)


def test_a_case_received_during_a_holiday_starts_counting_after_it() -> None:
    assert CAL.add_workdays(bj(2026, 10, 3, 11), 1) == end_of(2026, 10, 8)
    assert CAL.add_workdays(bj(2026, 2, 18, 11), 1) == end_of(2026, 2, 24)


def test_workdays_into_an_unannounced_year_raise() -> None:
    assert CAL.add_workdays(bj(2026, 12, 30, 9), 1) == end_of(2026, 12, 31)
    with pytest.raises(CalendarGapError) as caught:
        CAL.add_workdays(bj(2026, 12, 30, 9), 3)
    assert caught.value.year == 2027


def test_workdays_into_a_covered_year_use_the_override_table() -> None:
    calendar = WorkCalendar(overrides={date(2027, 1, 1): False}, covered_years=frozenset({2027}))
    # 12-31 (1), 01-01 元旦 skipped, 01-02/03 weekend, 01-04 (2), 01-05 (3)
    assert calendar.add_workdays(bj(2026, 12, 30, 9), 3) == end_of(2027, 1, 5)


def test_remembered_workday_answers_are_the_walked_ones_and_gaps_are_not_remembered() -> None:
    calendar = default_calendar()
    starts = [bj(2026, 1, 1) + timedelta(hours=7 * k) for k in range(0, 1300)]  # every hour of the day, all year
    for n in (1, 5, 15):
        remembered = [calendar.add_workdays(s, n) for s in starts if s.year == 2026 and s.month < 12]
        again = [calendar.add_workdays(s, n) for s in starts if s.year == 2026 and s.month < 12]
        walked = [default_calendar().add_workdays(s, n) for s in starts if s.year == 2026 and s.month < 12]
        assert remembered == again == walked
    for _ in range(2):  # the second ask raises as the first did: no half answer was kept
        with pytest.raises(CalendarGapError):
            calendar.add_workdays(bj(2026, 12, 30, 9), 3)
    assert calendar.as_provisional().add_workdays(bj(2026, 12, 30, 9), 3) > end_of(2026, 12, 31)


@pytest.mark.parametrize("n", [0, -1])
def test_workdays_must_be_positive(n: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        CAL.add_workdays(bj(2026, 9, 30), n)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.add_workdays(datetime(2026, 9, 30, 10), 5)
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.add_calendar_days(datetime(2026, 9, 30, 10), 15)
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.add_hours(datetime(2026, 9, 30, 10), 48)


# ---------------------------------------------------------------- add_calendar_days (日)


def test_calendar_days_on_a_working_day_end_at_midnight_beijing() -> None:
    # 2026-09-30 + 15 日 = 2026-10-15 (Thursday, working)
    assert CAL.add_calendar_days(bj(2026, 9, 30, 10), 15) == end_of(2026, 10, 15)


def test_calendar_days_count_holidays_inside_the_period() -> None:
    # 日 are calendar days: the 国庆 week inside the period is counted, unlike 工作日.
    assert CAL.add_calendar_days(bj(2026, 9, 28, 10), 10) == end_of(2026, 10, 8)


def test_calendar_days_ending_on_national_day_move_to_the_next_working_day() -> None:
    # 2026-09-20 + 15 日 = 2026-10-05 (国庆) -> 2026-10-08
    assert CAL.add_calendar_days(bj(2026, 9, 20, 10), 15) == end_of(2026, 10, 8)


def test_calendar_days_ending_in_spring_festival_move_past_it() -> None:
    # 2026-02-01 + 15 日 = 2026-02-16 (春节) -> 2026-02-24
    assert CAL.add_calendar_days(bj(2026, 2, 1, 10), 15) == end_of(2026, 2, 24)


def test_calendar_days_ending_on_a_plain_weekend_move_to_monday() -> None:
    # Weekly rest days are 法定休假日 too: 2026-11-06 + 15 日 = Saturday 11-21 -> Monday 11-23.
    assert CAL.add_calendar_days(bj(2026, 11, 6, 10), 15) == end_of(2026, 11, 23)


def test_calendar_days_ending_on_a_tiaoxiu_saturday_stay_there() -> None:
    # 2026-09-25 + 15 日 = Saturday 2026-10-10, a 调休 working day.
    assert CAL.add_calendar_days(bj(2026, 9, 25, 10), 15) == end_of(2026, 10, 10)


def test_sixty_days_into_an_unannounced_year_raise_and_work_with_overrides() -> None:
    # 2026-11-02 + 60 日 = 2027-01-01
    with pytest.raises(CalendarGapError) as caught:
        CAL.add_calendar_days(bj(2026, 11, 2, 10), 60)
    assert caught.value.year == 2027
    calendar = WorkCalendar(overrides={date(2027, 1, 1): False}, covered_years=frozenset({2027}))
    # 01-01 元旦, 01-02/03 weekend -> Monday 01-04
    assert calendar.add_calendar_days(bj(2026, 11, 2, 10), 60) == end_of(2027, 1, 4)


def test_calendar_days_do_not_need_data_for_days_they_never_reach() -> None:
    # Ends 2026-12-31, a working day: 2027 is never consulted.
    assert CAL.add_calendar_days(bj(2026, 12, 1, 10), 30) == end_of(2026, 12, 31)


# ---------------------------------------------------------------- add_hours


def test_hours_are_wall_clock_and_ignore_holidays() -> None:
    due = CAL.add_hours(bj(2026, 9, 30, 10), 48)
    assert due == bj(2026, 10, 2, 10).astimezone(UTC)
    assert due.tzinfo is UTC
    assert CAL.add_hours(bj(2026, 9, 30, 10), 1.5) == bj(2026, 9, 30, 11, 30)


def test_hours_work_in_a_year_without_calendar_data() -> None:
    assert CAL.add_hours(bj(2027, 5, 1, 10), 5) == bj(2027, 5, 1, 15)


@pytest.mark.parametrize("hours", [0, -2])
def test_hours_must_be_positive(hours: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        CAL.add_hours(bj(2026, 9, 30), hours)


# ---------------------------------------------------------------- parse_overrides


def test_parse_overrides_reads_an_admin_table() -> None:
    calendar = parse_overrides(
        {"covered_years": [2027], "overrides": {"2027-01-01": False, date(2027, 2, 6): True}},
    )
    assert calendar.covered_years == frozenset({2027})
    assert calendar.is_workday(date(2027, 1, 1)) is False
    assert calendar.is_workday(date(2027, 2, 6)) is True


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"overrides": {"2027-13-01": False}}, "not a date"),
        ({"overrides": {"2027-01-01": "no"}}, "true"),
        ({"covered_years": ["2027"]}, "covered_years"),
        ({"covered_year": [2027]}, "unknown calendar keys"),
        ({"overrides": [1, 2]}, "overrides must be a table"),
    ],
)
def test_parse_overrides_rejects_bad_tables(table: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_overrides(table)


# ------------------------------------------------------------- provisional years (statutory holidays)


def test_statutory_holidays_of_2027_from_the_lunar_calendar_and_the_solar_term() -> None:
    assert sorted(statutory_holidays(2027)) == [
        date(2027, 1, 1),  # 元旦
        date(2027, 2, 5),  # 除夕
        date(2027, 2, 6),  # 正月初一
        date(2027, 2, 7),
        date(2027, 2, 8),
        date(2027, 4, 5),  # 清明
        date(2027, 5, 1),
        date(2027, 5, 2),
        date(2027, 6, 9),  # 端午 五月初五
        date(2027, 9, 15),  # 中秋 八月十五
        date(2027, 10, 1),
        date(2027, 10, 2),
        date(2027, 10, 3),
    ]


@pytest.mark.parametrize("year", [2025, 2026])
def test_statutory_holidays_are_holidays_in_the_published_arrangements(year: int) -> None:
    """The rule checked against the years the State Council has published (chinese_calendar knows them)."""
    holidays = statutory_holidays(year)
    assert len(holidays) == 13
    assert all(not chinese_calendar.is_workday(day) for day in holidays)


def test_a_provisional_calendar_answers_unknown_years_from_statutory_holidays_and_weekends() -> None:
    strict = default_calendar()
    with pytest.raises(CalendarGapError):
        strict.is_workday(date(2027, 2, 9))
    provisional = strict.as_provisional()
    assert [provisional.is_workday(date(2027, 2, d)) for d in range(4, 11)] == [
        True,  # Thu 4
        False,  # Fri 5 除夕
        False,  # Sat 6 初一
        False,  # Sun 7
        False,  # Mon 8 初三
        True,  # Tue 9
        True,  # Wed 10
    ]
    # Known years and the admin's overrides still win.
    assert provisional.is_workday(date(2026, 10, 7)) is False  # 2026 国庆 as published
    assert provisional.is_workday(date(2026, 10, 10)) is True  # its 调休 Saturday
    with_override = parse_overrides({"overrides": {"2027-02-09": False}}).as_provisional()
    assert with_override.is_workday(date(2027, 2, 9)) is False


def test_firm_or_provisional_says_which_year_was_missing() -> None:
    start = datetime(2026, 12, 30, 2, 0, tzinfo=UTC)
    due, gap = firm_or_provisional(lambda cal: cal.add_workdays(start, 3), default_calendar())
    assert due == datetime(2027, 1, 5, 16, 0, tzinfo=UTC) and gap is not None and gap.year == 2027
    assert "2027年" in gap_message(gap)
    due, gap = firm_or_provisional(lambda cal: cal.add_workdays(start, 1), default_calendar())
    assert gap is None and due == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
