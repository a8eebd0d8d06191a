"""Find the 乡镇/街道 and 村/社区 a text talks about, using the county's configured place list.

Runs on every case, so the whole gazetteer is compiled into one regular expression per County and
cached; extraction is then a single scan of the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hotline.shared.domain.county import County

# A bare short form ("城厢") is a place only when followed by words like these; otherwise "湖头" in
# "湖头鱼丸" or "龙门" in "龙门架" would count as places.
_AREA_WORDS = ("片区", "辖区", "境内", "一带", "地区", "这边", "那边", "那里", "这里", "街上", "镇上")
_LOCAL_BODIES = ("政府", "党委", "派出所", "卫生院", "中心小学", "中学", "菜市场", "农贸市场", "集镇")
_SHORT_CONTEXT = _AREA_WORDS + _LOCAL_BODIES
_CACHE_SIZE = 8


@dataclass(frozen=True, slots=True)
class Place:
    """Canonical configured names: ``township`` is a place name such as "城厢镇"."""

    township: str | None
    village: str | None


# Words that place a case in a village rather than the county town.
_VILLAGE_WORDS = ("村里", "我们村", "本村", "村口", "村头", "村民", "村委")


def in_village(text: str, place: Place) -> bool:
    """Whether ``text`` happens in a village: a configured village (村, not an urban 社区) is named, or
    words such as 村里 or 村口 are used. Village facilities there are the township's (属地)."""
    return (place.village is not None and place.village.endswith("村")) or any(w in text for w in _VILLAGE_WORDS)


@dataclass(frozen=True, slots=True)
class _Matcher:
    pattern: re.Pattern[str]
    towns: dict[str, str]  # full or short form -> township place name
    villages: dict[str, tuple[str, ...]]  # village -> townships that have a village of that name


_cache: dict[int, tuple[County, _Matcher]] = {}


def _build(county: County) -> _Matcher:
    towns: dict[str, str] = {}
    shorts: dict[str, str] = {}
    villages: dict[str, tuple[str, ...]] = {}
    for unit in county.townships():
        if unit.place is None:
            continue
        towns[unit.place] = unit.place
        if unit.short:
            shorts[unit.short] = unit.place
        for village in unit.villages:
            villages[village] = (*villages.get(village, ()), unit.place)
    full = sorted({*towns, *villages}, key=len, reverse=True)  # longest first: "城厢社区" before "城厢镇"

    def alt(words: list[str]) -> str:
        return "|".join(map(re.escape, words))

    source = f"(?P<full>{alt(full)})"
    if shorts:
        ctx = alt(sorted(_SHORT_CONTEXT, key=len, reverse=True))
        source += f"|(?P<short>{alt(sorted(shorts, key=len, reverse=True))})(?={ctx})"
    return _Matcher(re.compile(source), {**towns, **shorts}, villages)


def _matcher(county: County) -> _Matcher:
    # County is not hashable (it holds mappings), so cache by identity and keep the object alive
    # alongside its matcher so that a recycled id() can never hit a stale entry.
    hit = _cache.get(id(county))
    if hit is not None and hit[0] is county:
        return hit[1]
    if len(_cache) >= _CACHE_SIZE:
        _cache.pop(next(iter(_cache)))
    built = _build(county)
    _cache[id(county)] = (county, built)
    return built


def extract_place(text: str, county: County) -> Place:
    """The township and village named in ``text``; a village alone implies its township."""
    m = _matcher(county)
    towns: list[str] = []
    village_hits: list[str] = []
    for hit in m.pattern.finditer(text):
        word = hit.group()
        if word in m.villages and hit.lastgroup == "full":
            village_hits.append(word)
        elif m.towns[word] not in towns:
            towns.append(m.towns[word])

    # Prefer a village whose township the text also names; then one whose name is unique in the county.
    first_unique: Place | None = None
    for village in village_hits:
        owners = m.villages[village]
        named = [t for t in owners if t in towns]
        if len(named) == 1:
            return Place(named[0], village)
        if len(owners) == 1 and first_unique is None:
            first_unique = Place(owners[0], village)
    if first_unique is not None:
        return first_unique
    if towns:
        return Place(towns[0], None)
    if village_hits:
        # Only a village name shared by several townships: keep the village, leave the township open.
        return Place(None, village_hits[0])
    return Place(None, None)
