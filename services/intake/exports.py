"""Cases and statistics as CSV (UTF-8 with BOM, so Excel reads the Chinese) and XLSX, Chinese headers.
Exports carry no personal data: names and phone numbers stay in the system."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from typing import Any

from hotline.services.intake.queries import CHANNEL_LABELS, STATUS_LABELS
from hotline.services.intake.reports import GROUPS, TABLE_COLUMNS
from hotline.shared.clock import beijing
from hotline.shared.db import CaseRow

CASE_COLUMNS = (
    "查询码",
    "渠道",
    "受理时间",
    "状态",
    "主题",
    "子类",
    "严重程度",
    "承办单位",
    "乡镇",
    "答复时间",
    "答复内容（公开）",
    "内容",
)


def case_rows(cases: Sequence[CaseRow]) -> list[list[Any]]:
    def when(value: Any) -> str:
        return beijing(value).strftime("%Y-%m-%d %H:%M") if value else ""

    return [
        [
            case.query_code,
            CHANNEL_LABELS.get(case.channel, case.channel),
            when(case.received_at),
            STATUS_LABELS.get(case.status, case.status),
            case.topic or "",
            case.subtopic or "",
            case.severity or "",
            case.unit_name or "",
            case.township or "",
            when(case.answered_at),
            case.public_answer or "",
            case.content,
        ]
        for case in cases
    ]


def stats_rows(stats: dict[str, Any]) -> list[list[Any]]:
    header = ["分组", "名称", *(label for _, label in TABLE_COLUMNS)]
    rows: list[list[Any]] = [header, ["全部", "合计", *(stats["overall"].get(c) for c, _ in TABLE_COLUMNS)]]
    for key, label in GROUPS:
        for name, row in stats[key].items():
            rows.append([label, CHANNEL_LABELS.get(name, name), *(row.get(c) for c, _ in TABLE_COLUMNS)])
    return rows


# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 forbids (xlsx is XML): openpyxl refuses to write them.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def safe_cell(value: Any) -> Any:
    """A text cell that no spreadsheet will execute and every xlsx writer accepts: illegal XML
    characters removed, a leading formula character quoted with an apostrophe. Numbers, dates and
    None pass unchanged (a negative number is a number, not a formula)."""
    if not isinstance(value, str):
        return value
    text = _ILLEGAL_XML.sub("", value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(header: Sequence[str] | None, rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if header:
        writer.writerow(header)
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(header: Sequence[str] | None, rows: list[list[Any]], *, title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    if header:
        sheet.append(list(header))
    for row in rows:
        sheet.append([safe_cell(v) for v in row])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
