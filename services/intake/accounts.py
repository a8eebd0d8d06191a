"""Creating users and tokens outside HTTP: the first admin on start-up, `hotline token` for scripts."""

from __future__ import annotations

import asyncio
import secrets

from sqlalchemy import func, select

from hotline.services.intake.auth import Role, hash_password, issue_token
from hotline.shared.clock import Clock, ScaledClock
from hotline.shared.db import UserRow, create_engine, session_factory, transaction

ADMIN_USERNAME = "admin"


async def _ensure_admin(database_url: str, password: str | None, clock: Clock) -> str | None:
    engine = create_engine(database_url)
    try:
        async with transaction(session_factory(engine)) as session:
            if await session.scalar(select(func.count()).select_from(UserRow)):
                return None
            chosen = password or secrets.token_urlsafe(12)
            session.add(
                UserRow(
                    username=ADMIN_USERNAME,
                    display_name="系统管理员",
                    password_hash=hash_password(chosen),
                    role=Role.ADMIN.value,
                    unit_code=None,
                    active=True,
                    created_at=clock.now(),
                )
            )
            return chosen
    finally:
        await engine.dispose()


def ensure_admin(database_url: str, *, password: str | None = None) -> str | None:
    """Create the first admin if there is no user yet; returns its password (to print once)."""
    return asyncio.run(_ensure_admin(database_url, password, ScaledClock()))


async def _token_for(database_url: str, username: str, clock: Clock) -> str:
    engine = create_engine(database_url)
    try:
        async with transaction(session_factory(engine)) as session:
            user = await session.scalar(select(UserRow).where(UserRow.username == username, UserRow.active.is_(True)))
            if user is None:
                raise LookupError(f"用户 {username} 不存在或已停用")
            return await issue_token(session, user, label="cli")
    finally:
        await engine.dispose()


def token_for(database_url: str, username: str) -> str:
    return asyncio.run(_token_for(database_url, username, ScaledClock()))
