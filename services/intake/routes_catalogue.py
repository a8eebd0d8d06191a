"""The 派单目录 (units, routing table and matter catalogue) as admins edit it: versioned, validated, in
force at once."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from hotline.services.intake.admin import routing_versions, save_routing_version
from hotline.services.intake.auth import Principal, Role, require
from hotline.services.intake.responses import (
    ContractRoute,
    Matters,
    MatterSaved,
    RoutingSaved,
    RoutingTable,
    RoutingVersions,
)
from hotline.services.intake.runtime import Runtime
from hotline.services.intake.schemas import Body
from hotline.services.intake.similar import place_names
from hotline.shared.catalogue import Catalogue, current, parse_catalogue, parse_matter_catalogue, with_matter
from hotline.shared.clock import beijing
from hotline.shared.db import transaction
from hotline.shared.domain.matters import Matter
from hotline.shared.subjects import ROUTING_UPDATED

router = APIRouter(prefix="/api/v1", route_class=ContractRoute)


class NewTable(Body):
    model_config = ConfigDict(extra="forbid")
    content: str = Field(min_length=10, max_length=500_000, description="county.toml 格式的派单目录")
    matters: str | None = Field(
        default=None, max_length=2_000_000, description="matters.toml 格式的事项目录；不填则沿用当前版本的事项目录"
    )
    comment: str | None = Field(default=None, max_length=500)


async def catalogue_in_force(runtime: Runtime) -> Catalogue:
    async with runtime.read_sessions() as session:
        return await current(session)


async def place_names_in_force(runtime: Runtime) -> tuple[str, ...]:
    """The county's place names for the repeat check, read at most every few seconds (a read
    transaction per call was a sixth of a call's statements). A table saved meanwhile is seen
    within `PlaceNames.ttl_s`; only the text comparison of repeats uses these names."""
    cached = runtime.places.get()
    if cached is None:
        cached = runtime.places.put(place_names((await catalogue_in_force(runtime)).county))
    return cached


@router.get("/routing-table", response_model=RoutingTable, summary="当前派单目录")
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


@router.get("/routing-table/versions", response_model=RoutingVersions, summary="派单目录历史版本")
async def list_versions(request: Request, _: Annotated[Principal, Depends(require(Role.ADMIN))]) -> dict[str, Any]:
    async with request.app.state.runtime.read_sessions() as session:
        rows = await routing_versions(session)
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


@router.put("/routing-table", response_model=RoutingSaved, summary="保存新版派单目录（管理员）")
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
    version = await _save(runtime, principal, body.content, matters_content, body.comment)
    return {"version": version, "county": county.name, "units": len(county.units), "matter_count": len(matters)}


async def _save(runtime: Runtime, principal: Principal, content: str, matters: str, comment: str | None) -> int:
    async with transaction(runtime.sessions) as session:
        version = await save_routing_version(
            session, content=content, matters=matters, comment=comment, actor=principal.username, clock=runtime.clock
        )
    runtime.places.forget()  # this replica sees its own edit at once
    await runtime.nc.publish(ROUTING_UPDATED, str(version).encode())
    return version


# --------------------------------------------------------------------------------------------- matters


class MatterBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=100)
    klass: str = Field(alias="class", min_length=1, max_length=16, description="一级分类")
    lead: str = Field(min_length=1, max_length=64, description="主办单位编码")
    assist: list[str] = Field(default_factory=list, max_length=10, description="协办单位编码；town 表示属地乡镇")
    township: Literal["lead", "assist", "village", "none"] = "none"
    terms: list[str] = Field(min_length=1, max_length=200, description="识别用语；A+B 表示同一句中同时出现")
    exclude: list[str] = Field(default_factory=list, max_length=100)
    basis: str | None = Field(default=None, max_length=200)
    priority: int = Field(default=0, ge=-100, le=100)
    comment: str | None = Field(default=None, max_length=500)


def matter_view(matter: Matter, catalogue: Catalogue) -> dict[str, Any]:
    units = catalogue.county.units
    return {
        "code": matter.code,
        "name": matter.name,
        "class": matter.klass,
        "lead": matter.lead,
        "lead_name": units[matter.lead].name if matter.lead in units else matter.lead,
        "assist": list(matter.assist),
        "township": matter.township,
        "terms": [t.text for t in matter.terms],
        "exclude": list(matter.exclude),
        "basis": matter.basis,
        "priority": matter.priority,
    }


def matches(view: dict[str, Any], query: str) -> bool:
    """Whether a matter answers a search: its code, name, class, units, terms or basis contain it."""
    fields = [view["code"], view["name"], view["class"], view["lead"], view["lead_name"], view["basis"] or ""]
    return any(query in f for f in [*fields, *view["terms"], *view["assist"]])


@router.get("/matters", response_model=Matters, summary="事项目录（可搜索）")
async def list_matters(
    request: Request,
    _: Annotated[Principal, Depends(require(Role.ADMIN, Role.DISPATCHER))],
    q: Annotated[str | None, Query(max_length=50)] = None,
) -> dict[str, Any]:
    catalogue = await catalogue_in_force(request.app.state.runtime)
    views = [matter_view(m, catalogue) for m in catalogue.matters.matters]
    query = (q or "").strip()
    items = [v for v in views if matches(v, query)] if query else views
    return {"version": catalogue.version, "total": len(views), "items": items}


@router.put("/matters/{code}", response_model=MatterSaved, summary="新增或修改一个事项（管理员；保存为新版派单目录）")
async def save_matter(
    code: Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)],
    body: MatterBody,
    request: Request,
    principal: Annotated[Principal, Depends(require(Role.ADMIN))],
) -> dict[str, Any]:
    runtime: Runtime = request.app.state.runtime
    in_force = await catalogue_in_force(runtime)
    entry = {"code": code, **body.model_dump(by_alias=True, exclude={"comment"})}
    content = with_matter(in_force.matters_content, entry)
    try:
        matters = parse_matter_catalogue(content, in_force.county)
    except ValueError as exc:
        raise HTTPException(422, detail=[{"field": "matter", "message": f"事项无效：{exc}"}]) from None
    comment = body.comment or f"事项 {code}（{body.name}）"
    version = await _save(runtime, principal, in_force.content, content, comment)
    saved = await catalogue_in_force(runtime)
    return {"version": version, "matter_count": len(matters), "matter": matter_view(saved.matters.by_code[code], saved)}
