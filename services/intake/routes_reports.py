"""Period reports and exports for leadership."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse, Response

from hotline.services.intake.auth import Principal, Role, require
from hotline.services.intake.exports import CASE_COLUMNS, case_rows, stats_rows, to_csv, to_xlsx
from hotline.services.intake.limits import Period, period
from hotline.services.intake.queries import cases_received
from hotline.services.intake.reports import docx_report, markdown_report, xlsx_report
from hotline.services.intake.stats import period_bounds, statistics
from hotline.shared.db import read_one_snapshot

router = APIRouter(prefix="/api/v1")
READERS = (Role.LEADER, Role.DISPATCHER, Role.ADMIN)
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def _download(content: bytes, filename: str, extension: str) -> Response:
    disposition = f"attachment; filename*=UTF-8''{quote(filename)}.{extension}"
    return Response(content, media_type=MEDIA[extension], headers={"Content-Disposition": disposition})


async def _period_stats(request: Request, start: date | None, end: date | None) -> dict[str, Any]:
    runtime = request.app.state.runtime
    async with runtime.read_sessions() as session:
        await read_one_snapshot(session)  # the figures of one moment: their parts add up to their totals
        return await statistics(session, now=runtime.clock.now(), start=start, end=end)


def _name(prefix: str, start: date | None, end: date | None) -> str:
    return f"{prefix}_{start or '开始'}_{end or '至今'}"


@router.get("/reports/period", summary="期间报告（回应社会关切）")
async def period_report(
    request: Request,
    _: Annotated[Principal, Depends(require(*READERS))],
    days: Annotated[Period, Depends(period)],
    format: Literal["md", "xlsx", "docx"] = "md",
) -> Response:
    start, end = days
    stats = await _period_stats(request, start, end)
    if format == "md":
        return PlainTextResponse(markdown_report(stats), media_type="text/markdown; charset=utf-8")
    content = xlsx_report(stats) if format == "xlsx" else docx_report(stats)
    return _download(content, _name("回应社会关切报告", start, end), format)


@router.get("/exports/cases.{extension}", summary="导出案件（CSV/XLSX，不含个人信息）")
async def export_cases(
    extension: Literal["csv", "xlsx"],
    request: Request,
    _: Annotated[Principal, Depends(require(*READERS))],
    days: Annotated[Period, Depends(period)],
) -> Response:
    start, end = days
    lower, upper = period_bounds(start, end)
    async with request.app.state.runtime.read_sessions() as session:
        cases = await cases_received(session, lower=lower, upper=upper)
    rows = case_rows(cases)
    content = to_csv(CASE_COLUMNS, rows) if extension == "csv" else to_xlsx(CASE_COLUMNS, rows, title="案件")
    return _download(content, _name("案件", start, end), extension)


@router.get("/exports/stats.{extension}", summary="导出统计（CSV/XLSX）")
async def export_stats(
    extension: Literal["csv", "xlsx"],
    request: Request,
    _: Annotated[Principal, Depends(require(*READERS))],
    days: Annotated[Period, Depends(period)],
) -> Response:
    start, end = days
    rows = stats_rows(await _period_stats(request, start, end))
    content = to_csv(None, rows) if extension == "csv" else to_xlsx(None, rows, title="统计")
    return _download(content, _name("统计", start, end), extension)
