"""Hostile input: control characters, implausible dates, huge offsets and periods, spreadsheet
formulas in exports."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from pydantic import ValidationError

from hotline.services.intake.cases import InvalidCase, case_from_call
from hotline.services.intake.exports import safe_cell, to_csv, to_xlsx
from hotline.services.intake.schemas import CallIn, MentionIn, sane_day, strip_control
from hotline.shared.clock import FixedClock

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def test_control_characters_are_stripped_and_nothing_but_them_is_refused() -> None:
    assert strip_control("路灯\x00坏了\x1b[31m\x7f\n两个月") == "路灯坏了[31m\n两个月"
    call = CallIn.model_validate(
        {"phone": "13859612345", "content": "路灯\x00坏了", "outcome": "transfer", "township": "城厢\x00镇"}
    )
    assert (call.content, call.township) == ("路灯坏了", "城厢镇")
    with pytest.raises(ValidationError) as refused:
        CallIn.model_validate({"phone": "13859612345", "content": "\x00\x01", "outcome": "transfer"})
    assert refused.value.errors()[0]["loc"] == ("content",)


def test_receipt_times_before_2000_or_in_the_future_are_refused() -> None:
    clock = FixedClock(NOW)
    base = {"phone": "13859612345", "content": "路灯坏了", "outcome": "transfer"}
    for when, words in (("1999-12-31T23:59:00+00:00", "早于"), ("2026-11-25T03:00:00+00:00", "晚于")):
        with pytest.raises(InvalidCase, match=words):
            case_from_call(CallIn.model_validate({**base, "received_at": when}), clock)
    row, _ = case_from_call(CallIn.model_validate({**base, "received_at": "2000-01-01T00:00:00+00:00"}), clock)
    assert row["received_at"] == datetime(2000, 1, 1, tzinfo=UTC)


def test_a_mention_published_in_year_1_is_refused() -> None:
    from hotline.services.intake.cases import case_from_mention

    body = MentionIn.model_validate(
        {
            "url": "https://example.com/a",
            "platform": "news",
            "outlet": "某网",
            "content": "报道",
            "published_at": "0001-01-01T00:00:00+00:00",
        }
    )
    with pytest.raises(InvalidCase):
        case_from_mention(body, FixedClock(NOW))


def test_periods_must_fall_between_2000_and_2100() -> None:
    assert sane_day(date(2026, 11, 1)) == date(2026, 11, 1)
    for day in (date(1999, 12, 31), date(2101, 1, 1), date(9999, 12, 31)):
        with pytest.raises(ValueError):
            sane_day(day)


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("路灯坏了\x00\x0b", "路灯坏了"),
        ("城乡建设", "城乡建设"),
        (-3, -3),
        (None, None),
    ],
)
def test_export_cells_cannot_run_formulas(value: object, safe: object) -> None:
    assert safe_cell(value) == safe


def test_csv_and_xlsx_exports_are_safe_end_to_end() -> None:
    rows = [["=1+1", "a\x00b", 5]]
    assert to_csv(["甲", "乙", "丙"], rows).decode("utf-8-sig").splitlines()[1] == "'=1+1,ab,5"
    import io

    sheet = load_workbook(io.BytesIO(to_xlsx(["甲", "乙", "丙"], rows, title="t"))).active
    assert [cell.value for cell in sheet[2]] == ["'=1+1", "ab", 5]
