"""Working-day and legal-period arithmetic in Beijing time (民法典 第二百零一-二百零三条).

The rules come from 民法典 (2020):

- 第二百零一条: a period counted in days starts on the next day; the start day is not counted.
- 第二百零三条: if the last day of a period is a 法定休假日, the period ends on the day after the holiday
  ends; the last day ends at 24:00.
- Beijing time (Asia/Shanghai) is the civil time of every deadline. A day therefore ends at 24:00 Beijing,
  i.e. 00:00 Beijing of the next day, which is 16:00 UTC. All results are returned timezone-aware in UTC.

In Chinese legal practice 法定休假日 includes the weekly rest days (国务院《关于职工工作时间的规定》), so a
calendar-day deadline that falls on a plain Saturday or Sunday also moves to the next working day. A 调休
Saturday is a working day and is never skipped.

Which days are working days comes first from an administrator-maintained override table, then from the
`chinese_calendar` package, which only knows the years the State Council has announced. A date that
neither knows raises `CalendarGapError`. The code never silently guesses Monday-Friday for an unannounced
year, because a wrong guess moves a legal deadline (e.g. over an unannounced 春节 or 调休 weekend).

A clock must still run meanwhile (a 60-日 petition received in November ends in the next year, whose
arrangement the State Council publishes only in late autumn). `WorkCalendar.as_provisional()` answers
such years from the statutory holidays of 《全国年节及纪念日放假办法》 (revised 2024, in force
2025-01-01) plus weekends, without 调休 or 补休, which only the yearly notice fixes; a deadline computed
that way is marked provisional and recomputed once the year is known.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from types import MappingProxyType

import chinese_calendar
from lunardate import LunarDate

from hotline.shared.clock import SHANGHAI

__all__ = [
    "CalendarGapError",
    "WorkCalendar",
    "default_calendar",
    "firm_or_provisional",
    "gap_message",
    "parse_overrides",
    "statutory_holidays",
]


class CalendarGapError(Exception):
    """A date in a year for which neither `chinese_calendar` nor the override table knows the working days.

    `year` is the year that needs calendar data; `day` the first date that was asked about.
    """

    def __init__(self, year: int, day: date | None = None) -> None:
        self.year = year
        self.day = day
        at = f" ({day.isoformat()})" if day is not None else ""
        super().__init__(
            f"no working-day calendar for {year}{at}: chinese_calendar has no data for that year and the "
            f"override table does not cover it; an administrator must enter the State Council's holiday "
            f"arrangement for {year} (holidays and 调休 working days) and mark the year as covered"
        )


def gap_message(exc: CalendarGapError) -> str:
    """The gap, said in Chinese for the alert feed and the console."""
    return (
        f"{exc.year}年的节假日和调休安排尚未录入（日历软件包未收录该年），暂按法定节假日和周末计算，"
        f"请管理员在「工作日设置」录入国务院办公厅公布的{exc.year}年放假安排，录入后截止时间自动重算"
    )


@cache
def statutory_holidays(year: int) -> frozenset[date]:
    """The 法定节假日 of `year` per 《全国年节及纪念日放假办法》 (2024 revision, in force 2025-01-01):
    元旦 1 day, 春节 4 days (除夕 and 正月初一至初三), 清明 1 day (the solar term), 劳动节 2 days
    (1-2 May), 端午 1 day (五月初五), 中秋 1 day (八月十五), 国庆 3 days (1-3 October).

    Lunar dates come from `lunardate`, the 清明 solar term from `chinese_calendar`; both cover
    1901-2099, far beyond any clock's reach.
    """
    new_year = LunarDate(year, 1, 1).to_solar_date()
    days = {
        date(year, 1, 1),
        new_year - timedelta(days=1),  # 除夕: the eve of 正月初一, whether the 12th month has 29 or 30 days
        *(new_year + timedelta(days=n) for n in range(3)),
        date(year, 5, 1),
        date(year, 5, 2),
        LunarDate(year, 5, 5).to_solar_date(),
        LunarDate(year, 8, 15).to_solar_date(),
        date(year, 10, 1),
        date(year, 10, 2),
        date(year, 10, 3),
    }
    qingming = [
        d for d, name in chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 10)) if name == "清明"
    ]
    days.update(qingming)
    # 除夕 of the year's 春节 may fall in the previous year only in theory (正月初一 is never before
    # 21 January), so every day above is in `year`.
    return frozenset(days)


def _beijing_date(moment: datetime) -> date:
    if moment.tzinfo is None:
        # A naive datetime is ambiguous (UTC from a server? Beijing from an operator?); an 8-hour error
        # moves a deadline by a whole day, so refuse rather than guess.
        raise ValueError(f"deadline arithmetic needs a timezone-aware datetime, got naive {moment.isoformat()}")
    return moment.astimezone(SHANGHAI).date()


def _end_of_day(day: date) -> datetime:
    """24:00 Beijing time of `day` (= 00:00 Beijing of the next day), as UTC."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=SHANGHAI).astimezone(UTC)


@lru_cache(maxsize=8192)
def _package_says(day: date) -> bool | None:
    """chinese_calendar's answer for a day; None for a year outside its data. Remembered: the package
    looks for the first and last year of its whole table on every question (a tenth of the escalation
    service's CPU, about twenty questions per case), and its data changes only with an upgrade."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


@dataclass(frozen=True)
class WorkCalendar:
    """Working days of mainland China.

    `overrides` maps a date to whether it is a working day; it wins over `chinese_calendar` (corrections,
    local arrangements) and fills in years the package does not know yet. `covered_years` are the years
    for which the administrator has declared the override table complete, i.e. every holiday and every 调休
    working day of that year is in it: only for those years do the remaining days follow the ordinary
    rule (Monday-Friday work, Saturday-Sunday rest).
    """

    overrides: Mapping[date, bool] = field(default_factory=dict)
    covered_years: frozenset[int] = frozenset()
    # Answer unknown years from the statutory holidays and weekends instead of raising (see module doc).
    provisional: bool = False
    # add_workdays' answers by (start day, n): the calendar never changes, and escalation asks the same
    # question for every case received on a day (a day-by-day walk, a sixth of its CPU a case).
    _workdays_memo: dict[tuple[date, int], datetime] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        for day, is_workday in self.overrides.items():
            # datetime is a subclass of date, but a datetime key would never match a date lookup.
            if isinstance(day, datetime) or not isinstance(day, date):
                raise ValueError(f"override keys must be dates, got {day!r}")
            if not isinstance(is_workday, bool):
                raise ValueError(f"override for {day.isoformat()} must be true/false, got {is_workday!r}")
        for year in self.covered_years:
            if isinstance(year, bool) or not isinstance(year, int):
                raise ValueError(f"covered years must be integers, got {year!r}")
        # Freeze a private copy so a caller mutating its dict cannot change deadlines already computed.
        object.__setattr__(self, "overrides", MappingProxyType(dict(self.overrides)))
        object.__setattr__(self, "covered_years", frozenset(self.covered_years))

    def is_workday(self, day: date) -> bool:
        """Whether `day` is a working day; raises `CalendarGapError` when nothing knows the answer."""
        if isinstance(day, datetime):
            day = _beijing_date(day)
        override = self.overrides.get(day)
        if override is not None:
            return override
        known = _package_says(day)
        if known is not None:
            return known
        if day.year in self.covered_years:
            return day.weekday() < 5
        if self.provisional:
            return day.weekday() < 5 and day not in statutory_holidays(day.year)
        raise CalendarGapError(day.year, day)

    def as_provisional(self) -> WorkCalendar:
        """The same calendar, answering unknown years from the statutory holidays and weekends."""
        return replace(self, provisional=True)

    def next_workday(self, day: date) -> date:
        """The first working day on or after `day`."""
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day

    def add_workdays(self, start: datetime, n: int) -> datetime:
        """End (24:00 Beijing) of the n-th working day after the day of `start`.

        The start day is not counted, whether or not it is a working day (民法典 第二百零一条), so a case
        received on a Saturday afternoon with 5 工作日 ends on Friday 24:00 of the next week (no 调休).
        """
        _check_count(n)
        first = _beijing_date(start)
        known = self._workdays_memo.get((first, n))
        if known is not None:
            return known
        day, counted = first, 0
        while counted < n:
            day += timedelta(days=1)
            if self.is_workday(day):  # may raise CalendarGapError: nothing is remembered then
                counted += 1
        if len(self._workdays_memo) >= _WORKDAYS_MEMO_SIZE:
            self._workdays_memo.clear()
        end = self._workdays_memo[(first, n)] = _end_of_day(day)
        return end

    def add_calendar_days(self, start: datetime, n: int) -> datetime:
        """End (24:00 Beijing) of the n-th calendar day (日) after the day of `start`.

        If that last day is not a working day (法定节假日 or weekly rest day), the period ends at the end of
        the next working day (民法典 第二百零三条).
        """
        _check_count(n)
        last = _beijing_date(start) + timedelta(days=n)
        return _end_of_day(self.next_workday(last))

    def add_hours(self, start: datetime, hours: float) -> datetime:
        """Wall-clock hours: holidays and nights count (舆情 48 小时, 5 小时 are elapsed time)."""
        if isinstance(hours, bool) or not hours > 0:
            raise ValueError(f"hours must be positive, got {hours!r}")
        _beijing_date(start)  # rejects naive datetimes
        return start.astimezone(UTC) + timedelta(hours=hours)


_WORKDAYS_MEMO_SIZE = 4096


def _check_count(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"a period in days must be a positive whole number, got {n!r}")


def firm_or_provisional(
    compute: Callable[[WorkCalendar], datetime], calendar: WorkCalendar
) -> tuple[datetime, CalendarGapError | None]:
    """`compute` on the calendar; where it reaches an unknown year, on the provisional calendar, with
    the gap that made it provisional (None when the result is firm)."""
    try:
        return compute(calendar), None
    except CalendarGapError as gap:
        return compute(calendar.as_provisional()), gap


def default_calendar() -> WorkCalendar:
    """`chinese_calendar` alone, without administrator overrides."""
    return WorkCalendar(overrides={}, covered_years=frozenset())


def parse_overrides(table: Mapping[str, object]) -> WorkCalendar:
    """Build a calendar from an administrator's table, e.g. parsed from TOML or JSON::

        covered_years = [2027]
        [overrides]
        2027-01-01 = false   # 元旦
        2027-02-06 = true    # 调休 working Saturday

    Keys of `overrides` may be dates or ISO date strings. Raises ValueError with the offending entry.
    """
    unknown = set(table) - {"covered_years", "overrides"}
    if unknown:
        raise ValueError(f"unknown calendar keys: {sorted(unknown)}; expected covered_years and overrides")
    raw_years = table.get("covered_years", [])
    if not isinstance(raw_years, list | tuple | set | frozenset):
        raise ValueError(f"covered_years must be a list of years, got {raw_years!r}")
    years: set[int] = set()
    for year in raw_years:
        if isinstance(year, bool) or not isinstance(year, int):
            raise ValueError(f"covered_years must be a list of years, got {year!r}")
        years.add(year)
    raw_overrides = table.get("overrides", {})
    if not isinstance(raw_overrides, Mapping):
        raise ValueError(f"overrides must be a table of date = true/false, got {raw_overrides!r}")
    overrides: dict[date, bool] = {}
    for key, value in raw_overrides.items():
        if isinstance(key, datetime):
            raise ValueError(f"override key {key!r} must be a date, not a date and time")
        if isinstance(key, date):
            day = key
        else:
            try:
                day = date.fromisoformat(str(key))
            except ValueError:
                raise ValueError(f"override key {key!r} is not a date (YYYY-MM-DD)") from None
        if not isinstance(value, bool):
            raise ValueError(f"override for {day.isoformat()} must be true (working) or false (rest), got {value!r}")
        overrides[day] = value
    return WorkCalendar(overrides=overrides, covered_years=frozenset(years))
