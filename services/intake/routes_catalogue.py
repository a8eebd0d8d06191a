"""The 派单目录 (units, routing table and matter catalogue) as admins edit it: versioned, validated, in
force at once."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from hotline.services.intake.auth import Principal, Role, require
from hotline.services.intake.runtime import Runtime
from hotline.shared.catalogue import Catalogue, current, parse_catalogue, parse_matter_catalogue
from hotline.shared.clock import beijing
from hotline.shared.db import RoutingTableRow, transaction
from hotline.shared.subjects import ROUTING_UPDATED

router = APIRouter(prefix="/api/v1")


class NewTable(BaseModel):
    model_config = ConfigDict(extra="forbid")
    content: str = Field(min_length=10, max_length=500_000, description="county.toml 格式的派单目录")
    matters: str | None = Field(
        default=None, max_length=2_000_000, description="matters.toml 格式的事项目录；不填则沿用当前版本的事项目录"
    )
    comment: str | None = Field(default=None, max_length=500)


async def catalogue_in_force(runtime: Runtime) -> Catalogue:
    async with runtime.read_sessions() as session:
        return await current(session)


@router.get("/routing-table", summary="当前派单目录")
async def get_table(request: Request, _: Annotated[Principal, Depends(require())]) -> dict[str, Any]:
    catalogue = await catalogue_in_force(request.app.state.runtime)
    return {
        "version": catalogue.version,
        "county": catalogue.county.name,
        "units": len(catalogue.county.units),
        "content": catalogue.content,
        "matter_count": len(catalogue.matters),
        "matters": catalogue.matters_content,
    }


@router.get("/routing-table/versions", summary="派单目录历史版本")
async def list_versions(request: Request, _: Annotated[Principal, Depends(require(Role.ADMIN))]) -> dict[str, Any]:
    async with request.app.state.runtime.read_sessions() as session:
        rows = (await session.execute(select(RoutingTableRow).order_by(RoutingTableRow.version.desc()))).scalars()
        return {
            "items": [
                {
                    "version": row.version,
                    "comment": row.comment,
                    "created_by": row.created_by,
                    "created_at": beijing(row.created_at).isoformat(),
                }
                for row in rows
            ]
        }


@router.put("/routing-table", summary="保存新版派单目录（管理员）")
async def save_table(
    body: NewTable, request: Request, principal: Annotated[Principal, Depends(require(Role.ADMIN))]
) -> dict[str, Any]:
    runtime: Runtime = request.app.state.runtime
    try:
        county = parse_catalogue(body.content)
    except ValueError as exc:
        raise HTTPException(422, detail=[{"field": "content", "message": f"派单目录无效：{exc}"}]) from None
    # Without new matters the version keeps those in force, checked against the new units.
    in_force = await catalogue_in_force(runtime)
    matters_content = body.matters if body.matters is not None else in_force.matters_content
    try:
        matters = parse_matter_catalogue(matters_content, county)
    except ValueError as exc:
        raise HTTPException(422, detail=[{"field": "matters", "message": f"事项目录无效：{exc}"}]) from None
    async with transaction(runtime.sessions) as session:
        row = RoutingTableRow(
            content=body.content,
            matters=matters_content,
            comment=body.comment,
            created_by=principal.username,
            created_at=runtime.clock.now(),
        )
        session.add(row)
        await session.flush()
        version = row.version
    await runtime.nc.publish(ROUTING_UPDATED, str(version).encode())
    return {"version": version, "county": county.name, "units": len(county.units), "matter_count": len(matters)}
