"""Values as they go into spreadsheet and document cells (CSV, XLSX, DOCX exports and reports).

- Formula injection: a text beginning with = + - @ (also after leading blanks), or with a tab or a
  carriage return, is read by Excel/WPS as a formula (`=HYPERLINK(...)` leaks data when clicked), so it
  gets a leading apostrophe, which spreadsheets show as text. Numbers stay numbers.
- XML 1.0 cannot hold C0 control characters (but tab, line feed, carriage return): openpyxl and
  python-docx raise on them, which made one stored NUL break every export. They are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FORMULA_START = ("=", "+", "-", "@")


def xml_safe(text: str) -> str:
    return _NOT_IN_XML.sub("", text)


def safe_cell(value: Any) -> Any:
    """A cell value that a spreadsheet shows as written and an XML file can hold."""
    if not isinstance(value, str):
        return value
    text = xml_safe(value)
    if text[:1] in ("\t", "\r") or text.lstrip()[:1] in _FORMULA_START:
        return "'" + text
    return text


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in values]
