"""The admin's records as service functions: users, the access log, dead letters and the versioned
派单目录 and working-day tables. Each takes a
session and typed arguments and returns rows; HTTP stays in routes_people.py and routes.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.services.intake.auth import Role, hash_password
from hotline.services.intake.keyset import Position, ordered_page
from hotline.shared.clock import Clock
from hotline.shared.db import AccessLogRow, CalendarTableRow, DeadLetterRow, RoutingTableRow, UserRow, transaction
from hotline.shared.domain.county import County


@dataclass(frozen=True, slots=True)
class NewAccount:
    username: str
    password: str
    role: Role
    unit: str | None = None
    display_name: str | None = None


def account_problem(account: NewAccount, county: County) -> str | None:
    """Why ``account`` may not be created with this county's units, or None."""
    if account.role is Role.UNIT and account.unit not in county.units:
        return "承办单位人员必须指定有效的单位编码（见 /api/v1/units）"
    if account.role is not Role.UNIT and account.unit is not None:
        return "只有承办单位人员（role=unit）可以指定单位"
    return None


async def add_user(
    sessions: async_sessionmaker[AsyncSession], account: NewAccount, *, county: County, clock: Clock
) -> UserRow:
    """Create the account in its own transaction: 422 for a unit the county lacks, 409 for a taken name."""
    problem = account_problem(account, county)
    if problem is not None:
        raise HTTPException(422, detail=[{"field": "unit", "message": problem}])
    user = UserRow(
        username=account.username,
        display_name=account.display_name,
        password_hash=hash_password(account.password),
        role=account.role.value,
        unit_code=account.unit,
        active=True,
        created_at=clock.now(),
    )
    try:
        async with transaction(sessions) as session:
            session.add(user)
    except IntegrityError:
        raise HTTPException(409, detail=f"用户名 {account.username} 已存在") from None
    return user


async def users(session: AsyncSession) -> Sequence[UserRow]:
    return (await session.execute(select(UserRow).order_by(UserRow.id))).scalars().all()


async def access_entries(session: AsyncSession, *, limit: int, after: Position | None = None) -> Sequence[AccessLogRow]:
    """The newest entries of the access log first (a page and one more, see keyset.page)."""
    statement = ordered_page(select(AccessLogRow), AccessLogRow.at, AccessLogRow.id, after=after, limit=limit)
    return (await session.execute(statement)).scalars().all()


async def dead_letters(
    session: AsyncSession, *, include_replayed: bool, limit: int, after: Position | None = None
) -> Sequence[DeadLetterRow]:
    """The newest dead letters first (a page and one more, see keyset.page)."""
    statement = ordered_page(
        select(DeadLetterRow), DeadLetterRow.created_at, DeadLetterRow.id, after=after, limit=limit
    )
    if not include_replayed:
        statement = statement.where(DeadLetterRow.replayed_at.is_(None))
    return (await session.execute(statement)).scalars().all()


async def dead_letter(session: AsyncSession, letter_id: int) -> DeadLetterRow:
    letter = await session.get(DeadLetterRow, letter_id)
    if letter is None:
        raise HTTPException(404, detail="死信不存在")
    return letter


async def mark_replayed(session: AsyncSession, letter_id: int, *, clock: Clock) -> None:
    await session.execute(update(DeadLetterRow).where(DeadLetterRow.id == letter_id).values(replayed_at=clock.now()))


# ---------------------------------------------------------- the 派单目录 and working-day tables, versioned


async def routing_versions(session: AsyncSession) -> Sequence[RoutingTableRow]:
    """Every saved 派单目录 version, newest first."""
    return (await session.execute(select(RoutingTableRow).order_by(RoutingTableRow.version.desc()))).scalars().all()


async def save_routing_version(
    session: AsyncSession, *, content: str, matters: str, comment: str | None, actor: str, clock: Clock
) -> int:
    """Store a validated 派单目录 (routing table and matter catalogue) as the next version."""
    row = RoutingTableRow(content=content, matters=matters, comment=comment, created_by=actor, created_at=clock.now())
    session.add(row)
    await session.flush()
    return row.version


async def latest_calendar(session: AsyncSession) -> CalendarTableRow | None:
    found: CalendarTableRow | None = await session.scalar(
        select(CalendarTableRow).order_by(CalendarTableRow.version.desc()).limit(1)
    )
    return found


async def save_calendar_version(session: AsyncSession, content: dict[str, Any], *, actor: str, clock: Clock) -> int:
    """Store a validated working-day table as the next version."""
    row = CalendarTableRow(content=content, created_by=actor, created_at=clock.now())
    session.add(row)
    await session.flush()
    return row.version
