"""Log-in, users and units."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import ConfigDict, Field

from hotline.services.intake.admin import NewAccount, access_entries, add_user, users
from hotline.services.intake.auth import (
    ROLE_LABELS,
    Principal,
    Role,
    authenticate,
    bearer_token,
    issue_token,
    require,
    revoke_token,
)
from hotline.services.intake.keyset import Position, cursor_param, page
from hotline.services.intake.responses import AccessLog, ContractRoute, LoggedOut, Me, Token, Units, UserCreated, Users
from hotline.services.intake.routes_catalogue import catalogue_in_force
from hotline.services.intake.schemas import Body
from hotline.shared.clock import beijing
from hotline.shared.db import transaction

router = APIRouter(prefix="/api/v1", route_class=ContractRoute)


class Credentials(Body):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class NewUser(Body):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    password: str = Field(min_length=8, max_length=256)
    role: Role
    unit: str | None = None
    display_name: str | None = Field(default=None, max_length=64)


@router.post("/auth/token", response_model=Token, summary="登录，获取令牌")
async def login(body: Credentials, request: Request) -> dict[str, Any]:
    runtime = request.app.state.runtime
    guard = runtime.login_guard
    address = request.client.host if request.client else "?"
    wait = guard.retry_after(body.username, address)
    if wait:
        raise HTTPException(429, detail=f"登录失败次数过多，请{wait}秒后再试", headers={"Retry-After": str(wait)})
    async with transaction(runtime.sessions) as session:
        user = await authenticate(session, body.username, body.password)
        if user is None:
            guard.failed(body.username, address)
            raise HTTPException(401, detail="用户名或密码错误")
        guard.succeeded(body.username)
        token = await issue_token(session, user, label="login")
    return {
        "access_token": token,
        "token_type": "bearer",
        "username": user.username,
        "role": user.role,
        "unit": user.unit_code,
    }


@router.delete("/auth/token", response_model=LoggedOut, summary="退出登录（作废当前令牌）")
async def logout(request: Request, _: Annotated[Principal, Depends(require())]) -> dict[str, Any]:
    runtime = request.app.state.runtime
    token = bearer_token(request) or ""
    async with transaction(runtime.sessions) as session:
        revoked = await revoke_token(session, token, runtime.tokens)
    runtime.tokens.forget(token)  # again after commit: a check that read the row meanwhile cached it
    return {"revoked": revoked}


@router.get("/me", response_model=Me, summary="当前用户")
async def me(principal: Annotated[Principal, Depends(require())]) -> dict[str, Any]:
    return {
        "username": principal.username,
        "role": principal.role.value,
        "role_label": ROLE_LABELS[principal.role],
        "unit": principal.unit_code,
    }


@router.get("/units", response_model=Units, summary="承办单位")
async def units(request: Request, _: Annotated[Principal, Depends(require())]) -> dict[str, Any]:
    county = (await catalogue_in_force(request.app.state.runtime)).county
    return {
        "county": county.name,
        "items": [{"code": u.code, "name": u.name, "kind": u.kind} for u in county.units.values()],
    }


@router.post("/users", response_model=UserCreated, status_code=201, summary="新建用户（管理员）")
async def create_user(
    body: NewUser, request: Request, _: Annotated[Principal, Depends(require(Role.ADMIN))]
) -> dict[str, Any]:
    runtime = request.app.state.runtime
    county = (await catalogue_in_force(runtime)).county
    account = NewAccount(body.username, body.password, body.role, body.unit, body.display_name)
    await add_user(runtime.sessions, account, county=county, clock=runtime.clock)
    return {"username": body.username, "role": body.role.value, "unit": body.unit}


@router.get("/users", response_model=Users, summary="用户列表（管理员）")
async def list_users(request: Request, _: Annotated[Principal, Depends(require(Role.ADMIN))]) -> dict[str, Any]:
    async with request.app.state.runtime.read_sessions() as session:
        rows = await users(session)
    return {"items": [{"username": u.username, "role": u.role, "unit": u.unit_code, "active": u.active} for u in rows]}


@router.get("/access-log", response_model=AccessLog, summary="访问记录：拒绝的访问与完整个人信息的查看（管理员）")
async def access_log(
    request: Request,
    _: Annotated[Principal, Depends(require(Role.ADMIN))],
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    after: Annotated[Position | None, Depends(cursor_param)] = None,
) -> dict[str, Any]:
    async with request.app.state.runtime.read_sessions() as session:
        rows, next_cursor = page(await access_entries(session, limit=limit, after=after), limit, lambda e: (e.at, e.id))
        return {
            "next_cursor": next_cursor,
            "items": [
                {
                    "at": beijing(row.at).isoformat(),
                    "username": row.username,
                    "action": row.action,
                    "target": row.target,
                    "reason": row.reason,
                }
                for row in rows
            ],
        }
