"""GET /api/v1/health: the database, NATS and every service, each checked live."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from urllib.parse import ParseResult

from nats.aio.client import Client as NatsClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.shared.subjects import SERVICES, health_subject

TIMEOUT_S = 1.5


async def check_database(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    try:
        async with sessions() as session:
            await asyncio.wait_for(session.execute(text("SELECT 1")), timeout=TIMEOUT_S)
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    return {"ok": True}


async def check_service(nc: NatsClient, service: str) -> dict[str, Any]:
    try:
        reply = await nc.request(health_subject(service), b"", timeout=TIMEOUT_S)
        return {"ok": True, **json.loads(reply.data)}
    except Exception as exc:
        return {"ok": False, "error": f"无响应 ({type(exc).__name__})"}


def supervisor_status(path: Path | None) -> dict[str, dict[str, Any]]:
    """Restart counts that `hotline up` records; empty when the processes run under something else."""
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): dict(v) for k, v in data.items() if isinstance(v, dict)} if isinstance(data, dict) else {}


def add_restarts(checks: dict[str, Any], status: dict[str, dict[str, Any]]) -> None:
    """Each supervised process's check gets `restarts` (and its last exit status once it died)."""
    for name, check in checks.items():
        record = status.get("nats-server" if name == "nats" else name)
        if record is None:
            continue
        check["restarts"] = int(record.get("restarts") or 0)
        if record.get("last_exit") is not None:
            check["last_exit"] = record["last_exit"]
            check["last_restart_at"] = record.get("last_restart_at")


def server_address(url: ParseResult | None) -> str | None:
    """host:port of the NATS server, never the user and password in its URL (health is public)."""
    if url is None:
        return None
    return f"{url.hostname}:{url.port}" if url.port else url.hostname


async def health_report(
    nc: NatsClient,
    sessions: async_sessionmaker[AsyncSession],
    *,
    supervisor: Path | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    checks: dict[str, Any] = {"intake": {"ok": True}, "database": await check_database(sessions)}
    if nc.is_connected:
        checks["nats"] = {"ok": True, "server": server_address(nc.connected_url)}
        results = await asyncio.gather(*(check_service(nc, s) for s in SERVICES))
        checks.update(zip(SERVICES, results, strict=True))
    else:
        checks["nats"] = {"ok": False, "error": "未连接 NATS"}
        checks.update({s: {"ok": False, "error": "NATS 未连接，无法检查"} for s in SERVICES})
    checks.update(extra or {})
    add_restarts(checks, supervisor_status(supervisor))
    down = [name for name, check in checks.items() if not check["ok"]]
    return {
        "status": "ok" if not down else "degraded",
        "down": down,
        "message": "全部正常" if not down else "以下组件不可用：" + "、".join(down),
        "checks": checks,
    }
