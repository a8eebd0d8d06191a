"""The 派单目录 in force: the newest version saved by an admin, or the table shipped with the system
(`county.toml`) until an admin saves one."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache, lru_cache

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.shared.db import RoutingTableRow
from hotline.shared.domain.county import DEFAULT_COUNTY_PATH, County, county_from_dict, load_county

# The table shipped with the system is version 0: every routing names a version, so a decision made
# before the first edit can still be traced to its table. Saved versions start at 1.
PACKAGED_VERSION = 0


@dataclass(frozen=True, slots=True)
class Catalogue:
    version: int | None  # PACKAGED_VERSION: the packaged table; None: a table handed in by a test
    county: County
    content: str


def parse_catalogue(content: str) -> County:
    """Validate a table an admin submits; ValueError says what is wrong (every problem at once)."""
    try:
        return county_from_dict(tomllib.loads(content))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"TOML 格式错误：{exc}") from exc


@cache
def packaged() -> Catalogue:
    return Catalogue(PACKAGED_VERSION, load_county(), DEFAULT_COUNTY_PATH.read_text(encoding="utf-8"))


@lru_cache(maxsize=4)
def _parsed(version: int, content: str) -> Catalogue:
    # Keyed by the text itself: each saved version is parsed once, whatever database it came from.
    return Catalogue(version, parse_catalogue(content), content)


async def current(session: AsyncSession) -> Catalogue:
    row = await session.scalar(select(RoutingTableRow).order_by(RoutingTableRow.version.desc()).limit(1))
    return packaged() if row is None else _parsed(row.version, row.content)
