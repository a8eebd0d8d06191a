"""The 派单目录 in force: the newest version saved by an admin, or the tables shipped with the system
(`county.toml`, `matters.toml`) until an admin saves one. A version holds the county (units and
routing table) and the matter catalogue, so every service decides with the same pair."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.shared.db import RoutingTableRow
from hotline.shared.domain.county import DEFAULT_COUNTY_PATH, County, county_from_dict, load_county
from hotline.shared.domain.matters import DEFAULT_MATTERS_PATH, MatterCatalogue, parse_matters

# The table shipped with the system is version 0: every routing names a version, so a decision made
# before the first edit can still be traced to its table. Saved versions start at 1.
PACKAGED_VERSION = 0


@dataclass(frozen=True, slots=True)
class Catalogue:
    version: int | None  # PACKAGED_VERSION: the packaged table; None: a table handed in by a test
    county: County
    content: str
    matters: MatterCatalogue
    matters_content: str


def parse_catalogue(content: str) -> County:
    """Validate a table an admin submits; ValueError says what is wrong (every problem at once)."""
    try:
        return county_from_dict(tomllib.loads(content))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"TOML 格式错误：{exc}") from exc


def parse_matter_catalogue(content: str, county: County) -> MatterCatalogue:
    """Validate a matter catalogue against the county it goes with (unit codes must exist)."""
    return parse_matters(content, county)


def packaged_matters_content() -> str:
    return DEFAULT_MATTERS_PATH.read_text(encoding="utf-8")


@cache
def packaged() -> Catalogue:
    county = load_county()
    matters_content = packaged_matters_content()
    return Catalogue(
        PACKAGED_VERSION,
        county,
        DEFAULT_COUNTY_PATH.read_text(encoding="utf-8"),
        parse_matters(matters_content),
        matters_content,
    )


@lru_cache(maxsize=4)
def _parsed(version: int, content: str, matters_content: str | None) -> Catalogue:
    # Keyed by the text itself: each saved version is parsed once, whatever database it came from.
    # The matters were checked against this county when saved; they are not checked again here so
    # that a version saved before a unit was renamed still loads (unknown units show as codes).
    text = matters_content if matters_content is not None else packaged_matters_content()
    return Catalogue(version, parse_catalogue(content), content, parse_matters(text), text)


# Versions already read, by database and version: a saved version never changes, and the feed asks
# for the one in force with every batch that routes a case (reading and hashing its ~150 kB of text
# each time cost a millisecond).
_SEEN: dict[tuple[str, int], Catalogue] = {}
_SEEN_MAX = 8


async def current(session: AsyncSession) -> Catalogue:
    version = await session.scalar(select(func.max(RoutingTableRow.version)))
    if version is None:
        return packaged()
    key = (session.get_bind().engine.url.render_as_string(hide_password=False), version)
    catalogue = _SEEN.get(key)
    if catalogue is None:
        row = await session.get_one(RoutingTableRow, version)
        catalogue = _parsed(row.version, row.content, row.matters)
        if len(_SEEN) >= _SEEN_MAX:
            _SEEN.pop(next(iter(_SEEN)))
        _SEEN[key] = catalogue
    return catalogue


def matter_block(entry: Mapping[str, Any]) -> str:
    """One ``[[matters]]`` table in the catalogue's own layout (keys in their usual order)."""
    lines = ["[[matters]]"]
    for key in ("code", "name", "class", "lead", "assist", "township", "terms", "exclude", "basis", "priority"):
        value = entry.get(key)
        if value is None or value == [] or value == "" or (key == "township" and value == "none"):
            continue
        if key == "priority" and value == 0:
            continue
        lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    return "\n".join(lines) + "\n"


def with_matter(content: str, entry: Mapping[str, Any]) -> str:
    """The catalogue text with the matter of ``entry["code"]`` replaced, or appended when new; every
    other line (comments included) stays as it was."""
    lines = content.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.strip() == "[[matters]]"]
    code_line = f"code = {json.dumps(entry['code'], ensure_ascii=False)}"
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        if not any(line.strip() == code_line for line in lines[start:end]):
            continue
        # Keep the comments and blank lines that introduce the next table.
        while end > start and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
            end -= 1
        return "".join(lines[:start]) + matter_block(entry) + "".join(lines[end:])
    separator = "" if not content or content.endswith("\n\n") else ("\n" if content.endswith("\n") else "\n\n")
    return content + separator + matter_block(entry)
