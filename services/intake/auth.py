"""Users, passwords (argon2) and bearer tokens; the FastAPI dependencies that enforce roles."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, NoReturn

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import HTTPException, Request
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.shared.clock import Clock
from hotline.shared.db import AccessLogRow, ApiTokenRow, UserRow, transaction

log = logging.getLogger(__name__)
_hasher = PasswordHasher()
TOKEN_LIFETIME = timedelta(hours=12)


class Role(StrEnum):
    OPERATOR = "operator"  # 话务员
    DISPATCHER = "dispatcher"  # 派单员
    UNIT = "unit"  # 承办单位工作人员
    LEADER = "leader"  # 领导
    ADMIN = "admin"  # 管理员


ROLE_LABELS = {
    Role.OPERATOR: "话务员",
    Role.DISPATCHER: "派单员",
    Role.UNIT: "承办单位",
    Role.LEADER: "领导",
    Role.ADMIN: "管理员",
}
# Roles that see every case; the others see their own unit's tasks or what they logged.
SEES_ALL = frozenset({Role.DISPATCHER, Role.LEADER, Role.ADMIN})


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int
    username: str
    role: Role
    unit_code: str | None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


_UNKNOWN_USER_HASH = hash_password("no user has this password: " + secrets.token_hex(16))


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _wall_time() -> datetime:
    # Tokens expire in real time, whatever HOTLINE_TIME_SCALE does to case time.
    return datetime.now(UTC)


async def issue_token(session: AsyncSession, user: UserRow, *, label: str = "api") -> str:
    token = "hl_" + secrets.token_urlsafe(32)
    now = _wall_time()
    session.add(
        ApiTokenRow(
            token_hash=_token_hash(token),
            user_id=user.id,
            label=label,
            created_at=now,
            expires_at=now + TOKEN_LIFETIME,
        )
    )
    return token


async def authenticate(session: AsyncSession, username: str, password: str) -> UserRow | None:
    user = await session.scalar(select(UserRow).where(UserRow.username == username, UserRow.active.is_(True)))
    # An unknown user costs the same hash as a known one, so timing does not tell which names exist.
    valid = verify_password(user.password_hash if user else _UNKNOWN_USER_HASH, password)
    return user if user is not None and valid else None


class TokenCache:
    """Principals of tokens checked in the last `ttl_s` seconds, so a call does not cost two reads
    before its own work. A token revoked here (logout) is forgotten at once; a change made
    elsewhere (another replica, a user deactivated in the database) shows within `ttl_s`. An entry
    never outlives its token."""

    def __init__(
        self, *, ttl_s: float = 5.0, max_entries: int = 10_000, now: Callable[[], datetime] = _wall_time
    ) -> None:
        self.ttl = timedelta(seconds=ttl_s)
        self.max_entries = max_entries
        self.now = now
        self._entries: dict[str, tuple[Principal, datetime]] = {}

    def get(self, token: str) -> Principal | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        if entry[1] <= self.now():
            del self._entries[token]
            return None
        return entry[0]

    def put(self, token: str, principal: Principal, token_expires_at: datetime) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()  # crude, and rare: a burst of distinct tokens; all are re-read
        self._entries[token] = (principal, min(self.now() + self.ttl, token_expires_at))

    def forget(self, token: str) -> None:
        self._entries.pop(token, None)


async def principal_for_token(session: AsyncSession, token: str, cache: TokenCache | None = None) -> Principal | None:
    row = await session.get(ApiTokenRow, _token_hash(token))
    if row is None or row.expires_at <= _wall_time():
        return None
    user = await session.get(UserRow, row.user_id)
    if user is None or not user.active:
        return None
    principal = Principal(user.id, user.username, Role(user.role), user.unit_code)
    if cache is not None:
        cache.put(token, principal, row.expires_at)
    return principal


async def revoke_token(session: AsyncSession, token: str, cache: TokenCache | None = None) -> bool:
    """Delete the token (logout); False when there was no such token."""
    if cache is not None:
        cache.forget(token)
    result = await session.execute(delete(ApiTokenRow).where(ApiTokenRow.token_hash == _token_hash(token)))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def log_access(
    session: AsyncSession, *, clock: Clock, who: str | None, action: str, target: str, reason: str | None = None
) -> None:
    session.add(AccessLogRow(at=clock.now(), username=who, action=action, target=target, reason=reason))


async def deny(
    runtime: Any, principal: Principal, *, target: str, detail: str, status: int = 404, reason: str | None = None
) -> NoReturn:
    """Log a refused access, then refuse. The log line gets its own transaction: call this outside
    any open one, whose rollback would take the line with it."""
    async with transaction(runtime.sessions) as session:
        await log_access(
            session, clock=runtime.clock, who=principal.username, action="denied", target=target, reason=reason
        )
    log.warning("denied %s (%s) on %s", principal.username, principal.role, target)
    raise HTTPException(status, detail=detail)


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    # EventSource cannot send headers: the live feed page passes its token as a query parameter.
    return request.query_params.get("access_token")


def require(*roles: Role) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency: the caller's principal, if logged in with one of `roles` (any role when empty)."""

    async def dependency(request: Request) -> Principal:
        runtime = request.app.state.runtime
        token = bearer_token(request)
        if not token:
            raise HTTPException(
                401, detail="未登录：请在 Authorization 头中提供 Bearer 令牌", headers={"WWW-Authenticate": "Bearer"}
            )
        principal: Principal | None = runtime.tokens.get(token)
        if principal is None:
            async with runtime.read_sessions() as session:
                principal = await principal_for_token(session, token, runtime.tokens)
        if principal is None:
            raise HTTPException(401, detail="令牌无效或已过期，请重新登录", headers={"WWW-Authenticate": "Bearer"})
        if roles and principal.role not in roles:
            allowed = "、".join(ROLE_LABELS[r] for r in roles)
            await deny(runtime, principal, target=request.url.path, status=403, detail=f"无权访问：需要 {allowed} 角色")
        return principal

    return dependency
