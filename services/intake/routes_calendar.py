"""Working-day overrides (调休 and holidays of years `chinese_calendar` does not know yet), kept by admins."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import ConfigDict, Field

from hotline.services.intake.admin import latest_calendar, save_calendar_version
from hotline.services.intake.auth import Principal, Role, require
from hotline.services.intake.responses import CalendarOut, ContractRoute
from hotline.services.intake.runtime import Runtime
from hotline.services.intake.schemas import Body
from hotline.shared.db import transaction
from hotline.shared.domain.calendar import parse_overrides
from hotline.shared.subjects import CALENDAR_UPDATED

router = APIRouter(prefix="/api/v1", route_class=ContractRoute)


class CalendarTable(Body):
    model_config = ConfigDict(extra="forbid")
    covered_years: list[int] = Field(default_factory=list, description="已完整录入节假日安排的年份")
    overrides: dict[str, bool] = Field(default_factory=dict, description='日期 → 是否工作日，如 {"2027-01-01": false}')


@router.get("/calendar", response_model=CalendarOut, summary="工作日调整表")
async def get_calendar(request: Request, _: Annotated[Principal, Depends(require())]) -> dict[str, Any]:
    async with request.app.state.runtime.read_sessions() as session:
        row = await latest_calendar(session)
    if row is None:
        return {"version": None, "covered_years": [], "overrides": {}}
    return {"version": row.version, **row.content}


@router.put("/calendar", response_model=CalendarOut, summary="保存工作日调整表（管理员）")
async def save_calendar(
    body: CalendarTable, request: Request, principal: Annotated[Principal, Depends(require(Role.ADMIN))]
) -> dict[str, Any]:
    runtime: Runtime = request.app.state.runtime
    content = body.model_dump()
    try:
        parse_overrides(content)
    except ValueError as exc:
        raise HTTPException(422, detail=[{"field": "overrides", "message": f"工作日调整表无效：{exc}"}]) from None
    async with transaction(runtime.sessions) as session:
        version = await save_calendar_version(session, content, actor=principal.username, clock=runtime.clock)
    await runtime.nc.publish(CALENDAR_UPDATED, str(version).encode())
    return {"version": version, **content}
