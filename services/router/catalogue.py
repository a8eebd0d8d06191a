"""The 派单目录 in force: the newest version saved by an admin, or the table shipped with the system
(`county.toml`) until an admin saves one."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.services.router.rules import DEFAULT_COUNTY_PATH, County, county_from_dict, load_county
from hotline.shared.db import RoutingTableRow


@dataclass(frozen=True, slots=True)
class Catalogue:
    version: int | None  # None: the packaged table
    county: County
    content: str


def parse_catalogue(content: str) -> County:
    """Validate a table an admin submits; ValueError says what is wrong (every problem at once)."""
    try:
        return county_from_dict(tomllib.loads(content))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"TOML 格式错误：{exc}") from exc


def packaged() -> Catalogue:
    return Catalogue(None, load_county(), DEFAULT_COUNTY_PATH.read_text(encoding="utf-8"))


async def current(session: AsyncSession) -> Catalogue:
    row = await session.scalar(select(RoutingTableRow).order_by(RoutingTableRow.version.desc()).limit(1))
    if row is None:
        return packaged()
    return Catalogue(row.version, parse_catalogue(row.content), row.content)
