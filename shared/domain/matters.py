"""The matter catalogue (事项目录): which 事项 a text is about, and who handles each one.

The catalogue is configuration (``matters.toml`` next to this module, or the version an admin saved
with the 派单目录). Each matter names its first-level class, its 主办 unit, optional 协办 units, the
role of the 属地 township, its legal basis and the phrases callers use for it. Everything here is a
pure function of the catalogue except :func:`load_matters`, the one explicit loader.

Identification works sentence by sentence: a term ``"A+B"`` matches when A and B occur in the same
sentence, and a matter's ``exclude`` words rule its matches out of the sentences they occur in. Each
sentence is scanned once, one set lookup per position and word length in use, so the cost is linear in
the text (which is capped) and does not grow with the number of matters.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, cast

from hotline.shared.domain.county import DEPARTMENT, County

# "village": the township leads when the case is in a village (its village facilities are 属地), the
# county unit in the county town.
TownshipRole = Literal["lead", "assist", "village", "none"]
TOWN = "town"  # in ``assist``: the 属地 乡镇/街道 named in the text or chosen by the operator

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
DEFAULT_MATTERS_PATH = Path(__file__).with_name("matters.toml")
MAX_CHARS = 6000  # identification reads at most this much of a text: bounded time per case
_CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_SENTENCE_END = re.compile(r"[。！？!?；;\n\r]+")
_ROLES: tuple[TownshipRole, ...] = ("lead", "assist", "village", "none")
_KEYS = {"code", "name", "class", "lead", "assist", "township", "terms", "exclude", "basis", "priority"}
# A combination is more specific than its words alone; each extra word adds this much.
_COMBO_BONUS = 1.0
# Further terms of the same matter add evidence with diminishing weight (1, 1/2, 1/4 …).
_DECAY = 0.5


@dataclass(frozen=True, slots=True)
class Term:
    text: str  # as written in the catalogue, e.g. "楼上+噪音"
    words: tuple[str, ...]
    weight: float


@dataclass(frozen=True, slots=True)
class Matter:
    code: str
    name: str
    klass: str  # first-level class (``class`` in the file)
    lead: str
    assist: tuple[str, ...] = ()
    township: TownshipRole = "none"
    terms: tuple[Term, ...] = ()
    exclude: tuple[str, ...] = ()
    basis: str | None = None
    priority: int = 0


@dataclass(frozen=True, slots=True)
class MatterHit:
    """A matter found in a text: its score and the catalogue terms that matched."""

    code: str
    score: float
    words: tuple[str, ...]
    probability: float = 0.0  # the learned matter model's probability (0 when it did not name it)


@dataclass(frozen=True, slots=True)
class _Index:
    # Each term filed under one of its words, the one fewest terms share (a term can only match where
    # all its words are present): word -> (matter index, term index). A sentence saying "小区" then
    # checks the few terms anchored there, not every term that mentions a 小区.
    anchored_terms: Mapping[str, tuple[tuple[int, int], ...]]
    words: frozenset[str]  # every word of every term and exclusion
    single_chars: frozenset[str] = frozenset()  # the words of one character
    # First two characters -> the lengths of the longer words that begin with them, so that a
    # sentence's position is tried only with the lengths that can match there (most with none).
    lengths_from: Mapping[str, tuple[int, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MatterCatalogue:
    matters: tuple[Matter, ...]
    by_code: Mapping[str, Matter] = field(default_factory=dict, repr=False, compare=False)
    index: _Index = field(default_factory=lambda: _Index({}, frozenset()), repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.matters)


EMPTY = MatterCatalogue(())

# --------------------------------------------------------------------------------------------- loading


def load_matters(path: Path | None = None, county: County | None = None) -> MatterCatalogue:
    """Read and validate a matter catalogue (default: the packaged ``matters.toml``)."""
    source = path or DEFAULT_MATTERS_PATH
    try:
        return parse_matters(source.read_text(encoding="utf-8"), county)
    except ValueError as exc:
        raise ValueError(f"{source}: {exc}") from exc


def parse_matters(content: str, county: County | None = None) -> MatterCatalogue:
    try:
        data = tomllib.loads(content)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"TOML 格式错误：{exc}") from exc
    return matters_from_dict(data, county)


def matters_from_dict(data: Mapping[str, Any], county: County | None = None) -> MatterCatalogue:
    """Build a catalogue from parsed TOML; raise ValueError listing every problem, each naming its entry.

    With a county, unit codes are checked against its units.
    """
    errors: list[str] = []
    raw = data.get("matters", [])
    if not isinstance(raw, list):
        raise ValueError("matters must be an array of tables ([[matters]])")
    matters: list[Matter] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw):
        matter = _parse_matter(i, entry, county, errors)
        if matter is None:
            continue
        if matter.code in seen:
            errors.append(f"matters[{i}] ({matter.code}): code is used twice")
        seen.add(matter.code)
        matters.append(matter)
    if errors:
        raise ValueError(f"invalid matter catalogue ({len(errors)} error(s)):\n- " + "\n- ".join(errors))
    return build_catalogue(matters)


def _parse_matter(i: int, raw: Any, county: County | None, errors: list[str]) -> Matter | None:
    if not isinstance(raw, Mapping):
        errors.append(f"matters[{i}]: must be a table")
        return None
    code = raw.get("code")
    where = f"matters[{i}] ({code if isinstance(code, str) else '?'})"
    problems: list[str] = []
    if not isinstance(code, str) or not _CODE_RE.match(code):
        problems.append("code must be lowercase ASCII letters, digits and '-'")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        problems.append(f"unknown key(s) {', '.join(unknown)}")
    name = _string(raw, "name", problems)
    klass = _string(raw, "class", problems)
    if klass is not None and klass not in CLASSES:
        problems.append(f"class {klass!r} is not one of the 15 first-level classes")
    lead = _string(raw, "lead", problems)
    assist = _strings(raw, "assist", problems)
    role = raw.get("township", "none")
    if role not in _ROLES:
        problems.append(f"township must be one of {', '.join(_ROLES)}, not {role!r}")
        role = "none"
    terms = _strings(raw, "terms", problems)
    if "terms" in raw and not terms:
        problems.append("terms is empty")
    exclude = _strings(raw, "exclude", problems)
    basis = _string(raw, "basis", problems, required=False)
    priority = raw.get("priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool):
        problems.append("priority must be an integer")
        priority = 0
    if county is not None:
        for unit in (lead, *(a for a in assist if a != TOWN)):
            if unit is None:
                continue
            if unit not in county.units:
                problems.append(f"unknown unit code {unit!r}")
            elif county.units[unit].kind != DEPARTMENT:
                problems.append(f'{unit!r} is a township; use "town" or township = "lead" instead')
    parsed_terms = []
    for term in terms:
        words = tuple(w.strip() for w in term.split("+"))
        if not all(words):
            problems.append(f"term {term!r} has an empty part")
            continue
        parsed_terms.append(Term(term, words, 0.0))
    errors.extend(f"{where}: {p}" for p in problems)
    if problems:
        return None
    return Matter(
        code=cast(str, code),
        name=cast(str, name),
        klass=cast(str, klass),
        lead=cast(str, lead),
        assist=assist,
        township=cast(TownshipRole, role),
        terms=tuple(parsed_terms),
        exclude=exclude,
        basis=basis,
        priority=priority,
    )


def _string(raw: Mapping[str, Any], key: str, problems: list[str], required: bool = True) -> str | None:
    value = raw.get(key)
    if value is None:
        if required:
            problems.append(f"'{key}' is required")
        return None
    if not isinstance(value, str) or not value.strip():
        problems.append(f"'{key}' must be a non-empty string")
        return None
    return value.strip()


def _strings(raw: Mapping[str, Any], key: str, problems: list[str]) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(f"'{key}' must be a list of non-empty strings")
        return ()
    return tuple(dict.fromkeys(v.strip() for v in value))


def build_catalogue(matters: Sequence[Matter]) -> MatterCatalogue:
    """Weigh every term and index every word (the terms' and the exclusions')."""
    spread: dict[str, set[int]] = {}
    for m, matter in enumerate(matters):
        for term in matter.terms:
            for word in term.words:
                spread.setdefault(word, set()).add(m)
    weighed = []
    for matter in matters:
        terms = tuple(Term(t.text, t.words, _weight(t.words, spread)) for t in matter.terms)
        weighed.append(Matter(**{**_fields(matter), "terms": terms}))
    word_terms: dict[str, list[tuple[int, int]]] = {}
    everything: set[str] = set()
    for m, matter in enumerate(weighed):
        everything.update(matter.exclude)
        for t, term in enumerate(matter.terms):
            for word in term.words:
                everything.add(word)
                word_terms.setdefault(word, []).append((m, t))
    anchored_terms: dict[str, list[tuple[int, int]]] = {}
    for m, matter in enumerate(weighed):
        for t, term in enumerate(matter.terms):
            anchor = min(term.words, key=lambda word: len(word_terms[word]))
            anchored_terms.setdefault(anchor, []).append((m, t))
    lengths_from: dict[str, set[int]] = {}
    for word in everything:
        if len(word) > 1:
            lengths_from.setdefault(word[:2], set()).add(len(word))
    index = _Index(
        MappingProxyType({w: tuple(v) for w, v in anchored_terms.items()}),
        frozenset(everything),
        frozenset(w for w in everything if len(w) == 1),
        MappingProxyType({pair: tuple(sorted(ns)) for pair, ns in lengths_from.items()}),
    )
    return MatterCatalogue(tuple(weighed), MappingProxyType({m.code: m for m in weighed}), index)


def _fields(matter: Matter) -> dict[str, Any]:
    return {name: getattr(matter, name) for name in Matter.__slots__}


def _weight(words: tuple[str, ...], spread: Mapping[str, set[int]]) -> float:
    """Longer words weigh more, words shared by many matters less, combinations more than their parts."""
    total = sum(min(len(w), 6) / math.sqrt(len(spread.get(w, ())) or 1) for w in words)
    return round(total + _COMBO_BONUS * (len(words) - 1), 3)


# --------------------------------------------------------------------------------------------- identifying


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text[:MAX_CHARS]) if s.strip()]


def _words_in(sentence: str, index: _Index) -> set[str]:
    # One lookup per position, and one per length a word beginning there comes in: no per-word loop,
    # whatever the catalogue size.
    words, lengths_from = index.words, index.lengths_from
    found = set(index.single_chars.intersection(sentence))
    for i in range(len(sentence) - 1):
        for n in lengths_from.get(sentence[i : i + 2], ()):
            if (piece := sentence[i : i + n]) in words:
                found.add(piece)
    return found


def identify(text: str, catalogue: MatterCatalogue, *, limit: int = 5) -> list[MatterHit]:
    """The matters ``text`` is about, best first (score, then priority), with the terms that matched."""
    if not catalogue.matters:
        return []
    index = catalogue.index
    matched: dict[int, set[int]] = {}
    for sentence in sentences(text):
        present = _words_in(sentence, index)
        for word in present:
            for m, t in index.anchored_terms.get(word, ()):
                matter = catalogue.matters[m]
                if present.issuperset(matter.terms[t].words) and present.isdisjoint(matter.exclude):
                    matched.setdefault(m, set()).add(t)
    hits = []
    for m, term_ids in matched.items():
        matter = catalogue.matters[m]
        # In catalogue order before the stable sorts: a set's order would change the reason from one
        # process to the next (string hashing is salted per process).
        terms = sorted(_distinct(matter.terms[t] for t in sorted(term_ids)), key=lambda term: -term.weight)
        score = sum(term.weight * _DECAY**k for k, term in enumerate(terms))
        hits.append((matter, MatterHit(matter.code, round(score, 3), tuple(term.text for term in terms))))
    hits.sort(key=lambda pair: (-pair[1].score, -pair[0].priority, pair[0].code))
    return [hit for _, hit in hits[:limit]]


def _distinct(terms: Iterable[Term]) -> list[Term]:
    """Drop a term that only repeats a longer one ("交房" inside "延期交房"): one mention, one count."""
    kept: list[Term] = []
    for term in sorted(terms, key=lambda t: -sum(len(w) for w in t.words)):
        if not any(all(any(w in big for big in longer.words) for w in term.words) for longer in kept):
            kept.append(term)
    return kept
