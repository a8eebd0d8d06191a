"""Keyset pagination for the lists (cases, tasks, the sorting queue, dead letters, the access log).

A list is in a stable order by (time, id). A page ends with `next_cursor`, an opaque token naming its
last row; the next page is asked with `cursor=` and holds the rows strictly after that one. Rows
inserted meanwhile never shift a page, and a deep page costs what a first one does (an `offset` reads
and skips every row before it: it still works, bounded, for old clients).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import HTTPException, Query
from sqlalchemy import Select, and_, or_

T = TypeVar("T")
SelectT = TypeVar("SelectT", bound="Select[*tuple[Any, ...]]")
CURSOR_MESSAGE = "翻页游标（cursor）无效：请使用上一页返回的 next_cursor"
MAX_CURSOR_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Position:
    """The last row of a page: its time and id (the list's order)."""

    at: datetime
    id: str


def encode(at: datetime, row_id: Any) -> str:
    text = json.dumps([at.isoformat(), str(row_id)], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(cursor: str) -> Position:
    """The position a cursor names; ValueError when it is not one this API gave out."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise ValueError("cursor too long")
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        at, row_id = raw
        moment = datetime.fromisoformat(at)
    except (binascii.Error, UnicodeDecodeError, TypeError, ValueError) as exc:
        raise ValueError("not a cursor") from exc
    if moment.tzinfo is None or not isinstance(row_id, str):
        raise ValueError("not a cursor")
    return Position(moment, row_id)


async def cursor_param(
    cursor: Annotated[
        str | None, Query(description="翻页游标：上一页返回的 next_cursor（不填为第一页）", max_length=200)
    ] = None,
) -> Position | None:
    """Dependency: the `cursor` of a list request, checked (422 in the API's error shape)."""
    if cursor is None:
        return None
    try:
        return decode(cursor)
    except ValueError:
        raise HTTPException(422, detail=[{"field": "cursor", "message": CURSOR_MESSAGE}]) from None


def _typed_id(column: Any, raw: str) -> Any:
    try:
        return uuid.UUID(raw) if column.type.python_type is uuid.UUID else int(raw)
    except ValueError:
        raise HTTPException(422, detail=[{"field": "cursor", "message": CURSOR_MESSAGE}]) from None


def ordered_page(
    statement: SelectT, time: Any, row_id: Any, *, after: Position | None, limit: int, newest_first: bool = True
) -> SelectT:
    """`statement` in (time, id) order, from just after `after`, one row more than a page (so the
    page knows whether another follows)."""
    if after is not None:
        at, key = after.at, _typed_id(row_id, after.id)
        if newest_first:
            statement = statement.where(or_(time < at, and_(time == at, row_id < key)))
        else:
            statement = statement.where(or_(time > at, and_(time == at, row_id > key)))
    order = (time.desc(), row_id.desc()) if newest_first else (time.asc(), row_id.asc())
    return statement.order_by(*order).limit(limit + 1)


def page(rows: Sequence[T], limit: int, position: Any) -> tuple[list[T], str | None]:
    """The page's rows and the cursor of the next page (None: this was the last). `position(row)`
    gives a row's (time, id)."""
    shown = list(rows[:limit])
    if len(rows) <= limit or not shown:
        return shown, None
    at, row_id = position(shown[-1])
    return shown, encode(at, row_id)
