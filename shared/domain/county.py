"""Routing rules: which unit leads (主办) a case and which units assist (协办).

The county's units and the routing table are configuration (``county.toml`` next to this module), so an
administrator can change who handles what without touching code. Everything here is a pure function of
that configuration except :func:`load_county`, the one explicit loader.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, cast

DEPARTMENT = "department"
TOWNSHIP = "township"
TownshipRole = Literal["lead", "assist", "none"]

DEFAULT_COUNTY_PATH = Path(__file__).with_name("county.toml")

_CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_TOWNSHIP_SUFFIXES = ("街道", "镇", "乡")
_ROLES: tuple[TownshipRole, ...] = ("lead", "assist", "none")
# Source of the confidentiality rule, quoted in every reason it changes a decision.
_ACCUSATION_SOURCE = "信访工作条例 第三十条"


@dataclass(frozen=True, slots=True)
class Unit:
    """A 县直部门 or a 乡镇人民政府/街道办事处; place fields are set only for townships."""

    code: str
    name: str
    kind: str
    supervisor: str | None
    villages: tuple[str, ...] = ()
    place: str | None = None
    short: str | None = None
    full_name: str | None = None
    aliases: tuple[str, ...] = ()
    contact: str | None = None


@dataclass(frozen=True, slots=True)
class Route:
    """One row of the routing table; ``subtopic`` None is the default row of its topic."""

    topic: str
    subtopic: str | None
    lead: str
    assist: tuple[str, ...]
    township: TownshipRole


@dataclass(frozen=True, slots=True)
class County:
    name: str
    units: Mapping[str, Unit]
    routes: Mapping[tuple[str, str | None], Route]
    default_unit: str
    accusation_unit: str

    def townships(self) -> tuple[Unit, ...]:
        return tuple(u for u in self.units.values() if u.kind == TOWNSHIP)


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    unit_code: str
    unit_name: str
    co_units: tuple[str, ...]
    reason: str


# --------------------------------------------------------------------------------------------- loading


def load_county(path: Path | None = None) -> County:
    """Read and validate a county file (default: the packaged ``county.toml``)."""
    source = path or DEFAULT_COUNTY_PATH
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
        return county_from_dict(data)
    except ValueError as exc:  # tomllib.TOMLDecodeError is a ValueError too
        raise ValueError(f"{source}: {exc}") from exc


def county_from_dict(data: Mapping[str, Any]) -> County:
    """Build a County from parsed TOML; raise ValueError listing every problem found."""
    errors: list[str] = []
    name = _text(data, "name", "county", errors) or "?"
    raw_units = data.get("units")
    if not isinstance(raw_units, Mapping) or not raw_units:
        errors.append("[units] is missing or empty")
        raw_units = {}
    units = {code: _parse_unit(code, raw, errors) for code, raw in raw_units.items()}
    default_unit = _text(data, "default_unit", "county", errors) or ""
    accusation_unit = _text(data, "accusation_unit", "county", errors) or ""
    for key, code in (("default_unit", default_unit), ("accusation_unit", accusation_unit)):
        if code and code not in units:
            errors.append(f"{key}: unknown unit code {code!r}")
    if default_unit and default_unit == accusation_unit:
        errors.append("default_unit and accusation_unit must differ (an accusation against it needs a way out)")
    _check_units(units, errors)
    routes = _parse_routes(data.get("routes", []), units, errors)
    if errors:
        raise ValueError(f"invalid county configuration ({len(errors)} error(s)):\n- " + "\n- ".join(errors))
    return County(
        name=name,
        units=MappingProxyType(units),
        routes=MappingProxyType(routes),
        default_unit=default_unit,
        accusation_unit=accusation_unit,
    )


def _text(raw: Mapping[str, Any], key: str, where: str, errors: list[str], required: bool = True) -> str | None:
    value = raw.get(key)
    if value is None:
        if required:
            errors.append(f"{where}: '{key}' is required")
        return None
    if not isinstance(value, str) or not value.strip():
        errors.append(f"{where}: '{key}' must be a non-empty string")
        return None
    return value.strip()


def _texts(raw: Mapping[str, Any], key: str, where: str, errors: list[str]) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        errors.append(f"{where}: '{key}' must be a list of non-empty strings")
        return ()
    return tuple(v.strip() for v in value)


def _parse_unit(code: str, raw: Any, errors: list[str]) -> Unit:
    where = f"units.{code}"
    if not _CODE_RE.match(code):
        errors.append(f"{where}: code must be lowercase ASCII letters, digits and '-'")
    if not isinstance(raw, Mapping):
        errors.append(f"{where}: must be a table")
        raw = {}
    kind = _text(raw, "kind", where, errors) or DEPARTMENT
    if kind not in (DEPARTMENT, TOWNSHIP):
        errors.append(f"{where}: kind must be 'department' or 'township', not {kind!r}")
    place = _text(raw, "place", where, errors, required=kind == TOWNSHIP)
    villages = _texts(raw, "villages", where, errors)
    if kind != TOWNSHIP and (place or villages):
        errors.append(f"{where}: only townships have 'place' and 'villages'")
    if len(set(villages)) != len(villages):
        errors.append(f"{where}: a village is listed twice")
    short = _text(raw, "short", where, errors, required=False)
    if kind == TOWNSHIP and place and short is None:
        short = _default_short(place)
    return Unit(
        code=code,
        name=_text(raw, "name", where, errors) or code,
        kind=kind,
        supervisor=_text(raw, "supervisor", where, errors, required=False),
        villages=villages,
        place=place,
        short=short,
        full_name=_text(raw, "full_name", where, errors, required=False),
        aliases=_texts(raw, "aliases", where, errors),
        contact=_text(raw, "contact", where, errors, required=False),
    )


def _default_short(place: str) -> str | None:
    for suffix in _TOWNSHIP_SUFFIXES:
        # A one-character short form ("X镇" → "X") would match far too much text.
        if place.endswith(suffix) and len(place) - len(suffix) >= 2:
            return place[: -len(suffix)]
    return None


def _check_units(units: Mapping[str, Unit], errors: list[str]) -> None:
    for unit in units.values():
        if unit.supervisor is not None and unit.supervisor not in units:
            errors.append(f"units.{unit.code}: unknown supervisor code {unit.supervisor!r}")
        seen = {unit.code}
        sup = unit.supervisor
        while sup is not None and sup in units:
            if sup in seen:
                errors.append(f"units.{unit.code}: supervisor chain loops back through {sup!r}")
                break
            seen.add(sup)
            sup = units[sup].supervisor
    # Place names are how texts and operators name a township, so they must be unambiguous.
    owner: dict[str, str] = {}
    for town in (u for u in units.values() if u.kind == TOWNSHIP):
        for label in (town.place, town.short):
            if label is None:
                continue
            if label in owner and owner[label] != town.code:
                errors.append(f"units.{town.code}: place name {label!r} already used by units.{owner[label]}")
            owner[label] = town.code


def _parse_routes(raw_routes: Any, units: Mapping[str, Unit], errors: list[str]) -> dict[tuple[str, str | None], Route]:
    if not isinstance(raw_routes, list):
        errors.append("routes must be an array of tables ([[routes]])")
        return {}
    routes: dict[tuple[str, str | None], Route] = {}
    for i, raw in enumerate(raw_routes):
        where = f"routes[{i}]"
        if not isinstance(raw, Mapping):
            errors.append(f"{where}: must be a table")
            continue
        topic = _text(raw, "topic", where, errors) or "?"
        where = f"{where} ({topic})"
        lead = _text(raw, "lead", where, errors) or "?"
        assist = _texts(raw, "assist", where, errors)
        role = raw.get("township", "none")
        if role not in _ROLES:
            errors.append(f"{where}: township must be one of {', '.join(_ROLES)}, not {role!r}")
            role = "none"
        for code in (lead, *assist):
            if code not in units:
                errors.append(f"{where}: unknown unit code {code!r}")
            elif units[code].kind != DEPARTMENT:
                # Townships are chosen by place, never named in the table.
                errors.append(f'{where}: {code!r} is a township; use township = "lead" instead')
        subtopics: tuple[str | None, ...] = _texts(raw, "subtopics", where, errors) if "subtopics" in raw else (None,)
        for sub in subtopics:
            if (topic, sub) in routes:
                errors.append(f"{where}: {topic}/{sub or '（默认）'} is configured twice")
            routes[(topic, sub)] = Route(topic, sub, lead, assist, cast(TownshipRole, role))
    return routes


# --------------------------------------------------------------------------------------------- lookups


def _unit_keys(unit: Unit, county: County) -> tuple[str, ...]:
    keys = [unit.code, unit.name, *unit.aliases]
    if unit.full_name:
        keys.append(unit.full_name)
    if unit.place:
        keys += [unit.place, county.name + unit.place]
    if unit.short:
        keys.append(unit.short)
    # "县住建局" is also written "清溪县住建局".
    keys += [county.name + k[1:] for k in keys if k.startswith("县")]
    return tuple(keys)


def find_unit(name: str, county: County, *, kind: str | None = None) -> Unit | None:
    """Resolve a code or a name the way people write it ("县住建局", "城厢镇", "城厢镇党委书记")."""
    text = name.strip()
    candidates = [u for u in county.units.values() if kind is None or u.kind == kind]
    for unit in candidates:
        if text in _unit_keys(unit, county):
            return unit
    # Otherwise the longest unit name inside the text ("县住建局副局长" → 县住建局); 3+ characters
    # so that a two-character short form does not fire inside unrelated words.
    best: tuple[int, Unit] | None = None
    for unit in candidates:
        for key in _unit_keys(unit, county):
            if len(key) >= 3 and key in text and (best is None or len(key) > best[0]):
                best = (len(key), unit)
    return best[1] if best else None


def village_named(text: str, township: Unit) -> str | None:
    """The village ("城厢镇经兜村") when ``text`` names the township only as the place of one of its villages (every
    mention of its place name is followed by a village of it), else None: "地点：城厢镇经兜村" says where
    a neighbour built, it does not accuse the township, while "城厢镇政府" or a bare "城厢镇" may."""
    if township.place is None or not township.villages:
        return None
    keys = {township.name, *township.aliases, *((township.full_name,) if township.full_name else ())}
    if any(key in text for key in keys):
        return None
    first: str | None = None
    at = text.find(township.place)
    while at >= 0:
        rest = text[at + len(township.place) :]
        village = next((v for v in township.villages if rest.startswith(v)), None)
        if village is None:
            return None
        first = first or township.place + village
        at = text.find(township.place, at + 1)
    return first


def find_township(name: str, county: County) -> Unit | None:
    """A township unit from its code, unit name, place name ("城厢镇") or short form ("城厢")."""
    return find_unit(name, county, kind=TOWNSHIP)


def _find_route(county: County, topic: str, subtopic: str | None) -> tuple[Route, str] | None:
    """The matching row and a label saying how it matched, or None for 人工分拣."""
    routes = county.routes
    if subtopic and (topic, subtopic) in routes:
        return routes[(topic, subtopic)], f"{topic}/{subtopic}"
    if subtopic:
        # A subtopic row of another class ("征地补偿" under 国土资源) is more specific than this
        # class's default row, so it is tried first; only when every row that lists the subtopic
        # sends it to the same place.
        rows = [r for (_, sub), r in routes.items() if sub == subtopic]
        targets = {(r.lead, r.assist, r.township) for r in rows}
        if len(targets) == 1:
            return rows[0], f"{rows[0].topic}/{subtopic}（按子类匹配）"
    if (topic, None) in routes:
        label = f"{topic}/{subtopic}（子类未配置，按一级分类）" if subtopic else topic
        return routes[(topic, None)], label
    return None


# --------------------------------------------------------------------------------------------- routing


def route(
    *,
    topic: str,
    subtopic: str | None,
    township: str | None,
    county: County,
    is_accusation: bool = False,
    accused_unit: str | None = None,
) -> RoutingDecision:
    """Decide the 主办 unit and the 协办 units of a case."""
    topic = topic.strip()
    subtopic = (subtopic or "").strip() or None
    town = find_township(township, county) if township and township.strip() else None
    notes: list[str] = []
    if township and township.strip() and town is None:
        notes.append(f"属地 {township.strip()} 不在本县乡镇（街道）名录，按主题派单")

    found = _find_route(county, topic, subtopic)
    if found is None:
        label = f"{topic}/{subtopic}" if subtopic else (topic or "（空）")
        lead, co = county.default_unit, cast(tuple[str, ...], ())
        head = f"主题 {label} 未配置 → {_name(lead, county)} 人工分拣"
    else:
        row, label = found
        lead, co, head = _apply_row(row, label, town, county)
    if is_accusation and accused_unit and accused_unit.strip():
        lead, co, note = shield_accused(lead, co, accused_unit.strip(), county)
        notes.append(note)
    return RoutingDecision(
        unit_code=lead,
        unit_name=_name(lead, county),
        co_units=co,
        reason="；".join([head, *notes]),
    )


def _apply_row(row: Route, label: str, town: Unit | None, county: County) -> tuple[str, tuple[str, ...], str]:
    dept_assist = "、".join(_name(c, county) for c in row.assist)
    if town is not None and row.township == "lead":
        co = (row.lead, *row.assist)
        helpers = "、".join(_name(c, county) for c in co)
        return town.code, co, f"主题 {label} → 属地 {town.place} 主办（{town.name}）；{helpers} 协办"
    head = f"主题 {label} → {_name(row.lead, county)}"
    if dept_assist:
        head += f"；{dept_assist} 协办"
    if town is not None and row.township == "assist":
        return row.lead, (*row.assist, town.code), f"{head}；属地 {town.place} 协办"
    return row.lead, row.assist, head


def shield_accused(
    lead: str, co: tuple[str, ...], accused_name: str, county: County
) -> tuple[str, tuple[str, ...], str]:
    """Keep a 检举/控告 away from the unit it accuses (信访工作条例 第三十条)."""
    accused = find_unit(accused_name, county)
    if accused is None:
        return lead, co, f"检举控告对象「{accused_name}」未匹配本县单位，请人工核对，确保不转被检举对象"
    if accused.kind == TOWNSHIP and any(v in accused_name for v in accused.villages):
        # A 村/社区 is not a unit of the table; its township is the supervising level, so keep it.
        return lead, co, f"检举控告对象「{accused_name}」为 {accused.place} 下辖村（社区），不转该村（社区）"
    note = ""
    if lead == accused.code:
        target = accused.supervisor or county.accusation_unit
        if target == accused.code:
            # The accusation unit itself is accused and has no supervisor in the county.
            target = county.default_unit
            note = (
                f"检举控告对象为 {accused.name}（{_ACCUSATION_SOURCE}），不得转其办理，"
                f"改由 {_name(target, county)} 人工分拣报上级机关"
            )
        else:
            via = "其上级单位 " if accused.supervisor else ""
            why = "" if accused.supervisor else "（被检举单位未配置上级单位）"
            note = (
                f"检举控告不得转被检举单位 {accused.name}（{_ACCUSATION_SOURCE}），"
                f"改由{via}{_name(target, county)} 主办{why}"
            )
        lead = target
    kept = tuple(c for c in co if c not in (accused.code, lead))
    if accused.code in co:
        note += ("；" if note else "") + f"被检举单位 {accused.name} 不列为协办（{_ACCUSATION_SOURCE}）"
    if not note:
        note = f"检举控告对象 {accused.name} 未参与办理"
    return lead, kept, note


def _name(code: str, county: County) -> str:
    return county.units[code].name
