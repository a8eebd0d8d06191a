"""The matter catalogue (事项目录, ``shared/domain/matters.toml``) is well-formed data.

The engine that reads it lives elsewhere; these checks hold the file itself to the agreed format so that
a county editing it learns about a typo here rather than at routing time.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from hotline.shared.domain.county import DEPARTMENT, load_county

MATTERS_PATH = Path(__file__).resolve().parents[2] / "shared" / "domain" / "matters.toml"
CLASSES = (
    "城乡建设",
    "环境保护",
    "交通运输",
    "教育文体",
    "劳动和社会保障",
    "商贸旅游",
    "卫生计生",
    "政法",
    "农村农业",
    "国土资源",
    "民政",
    "纪检监察",
    "党务政务",
    "经济管理",
    "科技与信息产业",
)
KEYS = {"code", "name", "class", "lead", "assist", "township", "terms", "exclude", "basis", "priority"}
CODE_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
TOWN = "town"


@pytest.fixture(scope="module")
def matters() -> list[dict[str, Any]]:
    data = tomllib.loads(MATTERS_PATH.read_text(encoding="utf-8"))
    rows = data["matters"]
    assert isinstance(rows, list)
    return rows


def _parts(term: str) -> list[str]:
    return term.split("+")


def test_catalogue_is_large_enough_and_covers_every_class(matters: list[dict[str, Any]]) -> None:
    assert len(matters) >= 320
    per_class = Counter(m["class"] for m in matters)
    assert set(per_class) == set(CLASSES)
    # A class with a handful of matters would leave most of its real complaints to 人工分拣.
    assert min(per_class.values()) >= 8, per_class


def test_every_matter_follows_the_format(matters: list[dict[str, Any]]) -> None:
    units = load_county().units
    problems: list[str] = []
    for i, m in enumerate(matters):
        where = f"matters[{i}] {m.get('code')}"
        problems += [f"{where}: unknown key {k!r}" for k in set(m) - KEYS]
        if not isinstance(m.get("code"), str) or not CODE_RE.match(m["code"]):
            problems.append(f"{where}: bad code")
        if not isinstance(m.get("name"), str) or not m["name"].strip():
            problems.append(f"{where}: name missing")
        if m.get("class") not in CLASSES:
            problems.append(f"{where}: class {m.get('class')!r}")
        lead = m.get("lead")
        if lead not in units or units[lead].kind != DEPARTMENT:
            problems.append(f"{where}: lead {lead!r} is not a department in county.toml")
        assist = m.get("assist", [])
        for code in assist:
            if code != TOWN and (code not in units or units[code].kind != DEPARTMENT):
                problems.append(f"{where}: assist {code!r} unknown")
        if lead in assist or len(set(assist)) != len(assist):
            problems.append(f"{where}: assist repeats a unit")
        role = m.get("township", "none")
        if role not in ("lead", "assist", "none"):
            problems.append(f"{where}: township {role!r}")
        # "town" in assist and township = "assist" say the same thing: keep them in step.
        if (TOWN in assist) != (role == "assist"):
            problems.append(f"{where}: 'town' in assist must go with township = 'assist'")
        if "basis" in m and (not isinstance(m["basis"], str) or not m["basis"].strip()):
            problems.append(f"{where}: empty basis")
        if "priority" in m and not isinstance(m["priority"], int):
            problems.append(f"{where}: priority must be an integer")
    assert not problems, "\n".join(problems)


def test_terms_are_usable(matters: list[dict[str, Any]]) -> None:
    problems: list[str] = []
    for m in matters:
        where = m["code"]
        terms = m.get("terms", [])
        if not 3 <= len(terms) <= 12:
            problems.append(f"{where}: {len(terms)} terms (want 3-12)")
        if len(set(terms)) != len(terms):
            problems.append(f"{where}: a term is listed twice")
        for term in [*terms, *m.get("exclude", [])]:
            if not isinstance(term, str) or any(not p.strip() or p != p.strip() for p in _parts(term)):
                problems.append(f"{where}: malformed term {term!r}")
        for term in terms:
            # A lone one-character term would fire inside unrelated words.
            if "+" not in term and len(term) < 2:
                problems.append(f"{where}: term {term!r} is too short to stand alone")
            # The agreed format is "A+B": two parts at most.
            if term.count("+") > 1:
                problems.append(f"{where}: term {term!r} has more than two parts")
        for word in m.get("exclude", []):
            if "+" in word:
                problems.append(f"{where}: exclude {word!r} must be a plain word")
    assert not problems, "\n".join(problems)


def test_codes_and_terms_are_unique(matters: list[dict[str, Any]]) -> None:
    codes = Counter(m["code"] for m in matters)
    assert [c for c, n in codes.items() if n > 1] == []
    names = Counter(m["name"] for m in matters)
    assert [c for c, n in names.items() if n > 1] == []
    # The same exact term under two matters leaves the choice to chance; neighbours must differ.
    owner: dict[str, str] = {}
    clashes: list[str] = []
    for m in matters:
        for term in m["terms"]:
            key = "+".join(sorted(_parts(term)))
            if key in owner:
                clashes.append(f"{term!r}: {owner[key]} and {m['code']}")
            owner[key] = m["code"]
    assert clashes == []


def _implies(general: str, specific: str) -> bool:
    """Whether every sentence matching ``specific`` also matches ``general``."""
    return all(any(g in s for s in _parts(specific)) for g in _parts(general))


def test_no_term_is_implied_by_another_of_its_matter(matters: list[dict[str, Any]]) -> None:
    # "低保户" adds nothing when "低保" is a term too; such echoes only inflate a match's score.
    echoes = [
        f"{m['code']}: {term!r} already matched by {other!r}"
        for m in matters
        for term in m["terms"]
        for other in m["terms"]
        if other != term and _implies(other, term)
    ]
    assert echoes == []


def test_accusations_of_officials_go_to_the_discipline_commission(matters: list[dict[str, Any]]) -> None:
    jw = [m for m in matters if m["class"] == "纪检监察"]
    assert jw and all(m["lead"] == "jwjw" and m.get("township", "none") == "none" for m in jw)
