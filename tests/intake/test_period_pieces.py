"""Which rollup rows add up to a period (`period_pieces`): year rows for its whole years, month (or
week) rows for the whole months (weeks) left, day rows for the rest."""

from __future__ import annotations

from datetime import date, timedelta

from hotline.services.intake.dispatch_accuracy import WEEKS
from hotline.services.intake.stats import MONTHS, STATISTICS_SPANS, YEARS, Piece, period_pieces
from hotline.shared.dispatch_rollups import monday_of

D = date


def week_rows_from(start: date | None) -> date | None:
    """The first whole week of a period starting on `start` (None: from the beginning): an oracle."""
    if start is None or start.weekday() == 0:
        return start
    return monday_of(start) + timedelta(days=7)


def week_rows_until(end: date | None) -> date | None:
    """The first day after the whole weeks of a period ending on `end` (None: to the end): an oracle."""
    if end is None:
        return None
    after = end + timedelta(days=1)
    return after if after.weekday() == 0 else monday_of(end)


def test_the_week_oracle_takes_whole_weeks_only() -> None:
    wednesday, sunday, monday = date(2026, 11, 4), date(2026, 11, 8), date(2026, 11, 9)
    assert week_rows_from(None) is None and week_rows_until(None) is None
    assert week_rows_from(monday) == monday and week_rows_from(wednesday) == monday
    assert week_rows_until(sunday) == monday and week_rows_until(wednesday) == date(2026, 11, 2)


def _days(pieces: list[Piece], lowest: date, highest: date) -> list[date]:
    """Every day the pieces cover between `lowest` and `highest`, once per piece covering it."""
    spans = {"year": YEARS, "month": MONTHS, "week": WEEKS}
    covered = []
    day = lowest
    while day <= highest:
        for span, first, after in pieces:
            row_day = day if span == "day" else spans[span].first_of(day)
            if (first is None or row_day >= first) and (after is None or row_day < after):
                covered.append(day)
        day += timedelta(days=1)
    return covered


def test_all_time_is_year_rows_only() -> None:
    assert period_pieces(None, None, STATISTICS_SPANS) == [("year", None, None)]


def test_a_period_inside_one_month_is_day_rows() -> None:
    assert period_pieces(D(2026, 9, 2), D(2026, 9, 29), STATISTICS_SPANS) == [("day", D(2026, 9, 2), D(2026, 9, 30))]


def test_a_whole_month_and_a_whole_year() -> None:
    assert period_pieces(D(2026, 10, 1), D(2026, 10, 31), STATISTICS_SPANS) == [
        ("month", D(2026, 10, 1), D(2026, 11, 1))
    ]
    assert period_pieces(D(2025, 1, 1), D(2025, 12, 31), STATISTICS_SPANS) == [("year", D(2025, 1, 1), D(2026, 1, 1))]


def test_across_new_year_without_a_whole_year() -> None:
    assert period_pieces(D(2025, 12, 20), D(2026, 1, 10), STATISTICS_SPANS) == [
        ("day", D(2025, 12, 20), D(2026, 1, 11))
    ]
    assert period_pieces(D(2025, 11, 20), D(2026, 2, 10), STATISTICS_SPANS) == [
        ("day", D(2025, 11, 20), D(2025, 12, 1)),
        ("month", D(2025, 12, 1), D(2026, 2, 1)),
        ("day", D(2026, 2, 1), D(2026, 2, 11)),
    ]


def test_days_months_years_months_days() -> None:
    assert period_pieces(D(2023, 11, 15), D(2026, 3, 3), STATISTICS_SPANS) == [
        ("day", D(2023, 11, 15), D(2023, 12, 1)),
        ("month", D(2023, 12, 1), D(2024, 1, 1)),
        ("year", D(2024, 1, 1), D(2026, 1, 1)),
        ("month", D(2026, 1, 1), D(2026, 3, 1)),
        ("day", D(2026, 3, 1), D(2026, 3, 4)),
    ]


def test_open_ends() -> None:
    assert period_pieces(D(2025, 3, 10), None, STATISTICS_SPANS) == [
        ("day", D(2025, 3, 10), D(2025, 4, 1)),
        ("month", D(2025, 4, 1), D(2026, 1, 1)),
        ("year", D(2026, 1, 1), None),
    ]
    assert period_pieces(None, D(2025, 6, 30), STATISTICS_SPANS) == [
        ("year", None, D(2025, 1, 1)),
        ("month", D(2025, 1, 1), D(2025, 7, 1)),
    ]
    assert period_pieces(None, D(2025, 12, 31), STATISTICS_SPANS) == [("year", None, D(2026, 1, 1))]
    assert period_pieces(D(2025, 1, 1), None, STATISTICS_SPANS) == [("year", D(2025, 1, 1), None)]


def test_no_day_no_piece() -> None:
    assert period_pieces(D(2026, 5, 2), D(2026, 5, 1), STATISTICS_SPANS) == []


def test_weeks_only_wholly_inside_the_period() -> None:
    # 2026-01-01 is a Thursday: the week of 29 December 2025 straddles New Year.
    assert period_pieces(D(2025, 12, 31), D(2026, 1, 18), (WEEKS,)) == [
        ("day", D(2025, 12, 31), D(2026, 1, 5)),
        ("week", D(2026, 1, 5), D(2026, 1, 19)),
    ]
    assert period_pieces(D(2025, 11, 1), None, (YEARS, WEEKS)) == [
        ("day", D(2025, 11, 1), D(2025, 11, 3)),
        ("week", D(2025, 11, 3), D(2025, 12, 29)),  # not the week of 29 December: it ends in 2026
        ("day", D(2025, 12, 29), D(2026, 1, 1)),
        ("year", D(2026, 1, 1), None),
    ]
    for start, end in ((D(2026, 11, 2), D(2026, 11, 8)), (D(2026, 11, 4), D(2026, 11, 30)), (None, D(2026, 11, 4))):
        weeks = [piece for piece in period_pieces(start, end, (WEEKS,)) if piece[0] == "week"]
        assert weeks == [] or weeks == [("week", week_rows_from(start), week_rows_until(end))]


def test_every_day_of_a_period_is_covered_once() -> None:
    lowest, highest = D(2023, 6, 1), D(2027, 3, 31)
    ends = [D(2023, 12, 31), D(2024, 1, 1), D(2024, 2, 29), D(2025, 3, 10), D(2025, 12, 28), D(2026, 1, 4), None]
    for spans in (STATISTICS_SPANS, (WEEKS,), (YEARS, WEEKS), (MONTHS,)):
        for start in [None, D(2023, 12, 31), D(2024, 1, 1), D(2024, 2, 29), D(2025, 3, 10), D(2025, 12, 29)]:
            for end in ends:
                if start is not None and end is not None and end < start:
                    continue
                pieces = period_pieces(start, end, spans)
                wanted = [
                    day
                    for day in _days([("day", None, None)], lowest, highest)
                    if (start is None or day >= start) and (end is None or day <= end)
                ]
                assert _days(pieces, lowest, highest) == wanted, (spans, start, end)
