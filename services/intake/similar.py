"""Similar earlier cases by character-bigram overlap: good enough for a county's recent cases, and
needs no model (so an operator sees it while the caller is still on the line)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise
from typing import TypeVar

from hotline.shared.domain.county import County

T = TypeVar("T")
_NOT_TEXT = re.compile(r"[\s\W_]+")


def bigrams(text: str) -> set[str]:
    cleaned = _NOT_TEXT.sub("", text)
    return {cleaned[i : i + 2] for i in range(len(cleaned) - 1)}


def bigram_codes(text: str) -> set[int]:
    """:func:`bigrams` as integers (one per pair of code points: the same sets, the same Dice)."""
    cleaned = _NOT_TEXT.sub("", text)
    return {ord(a) << 21 | ord(b) for a, b in pairwise(cleaned)}


def most_similar(
    query: str,
    candidates: Sequence[tuple[T, str]],
    *,
    limit: int,
    floor: float = 0.12,
) -> list[tuple[T, float]]:
    """The `limit` candidates whose text shares the most bigrams with the query (Dice coefficient)."""
    wanted = bigram_codes(query)
    if not wanted:
        return []
    scored = []
    for item, text in candidates:
        grams = bigram_codes(text)
        if grams:
            score = 2 * len(wanted.intersection(grams)) / (len(wanted) + len(grams))
            if score >= floor:
                scored.append((item, score))
    scored.sort(key=lambda pair: pair[1], reverse=True)
    return scored[:limit]


# ------------------------------------------------------------------------------------ same matter
# A repeat (重复来电) is the same caller about the same matter. The same phone alone is not enough:
# one person may report a broken street light and a blocked drain in the same month, and each needs
# its own task. Text told twice by the same person rarely shares wording ("路灯坏了两个多月" then
# "路灯还是没修好"), so the test is the subject words, with places and generic words left out.

NEAR_IDENTICAL = 0.5  # bigram Dice of the place-free texts: the same words, the same matter
SUBJECT_OVERLAP = 0.25  # share of the shorter text's subject words that the other text also has
_KEYWORDS = 10
_SUBJECT_POS = ("n", "nz", "nt", "nw", "an", "vn", "v", "l", "i")
# Words every complaint uses: they say nothing about which matter it is.
_GENERIC_WORDS = (
    "问题 反映 解决 处理 希望 要求 帮忙 怎么办 没人管 时候 电话 情况 部门 群众 相关 有关 尽快 维修 修理 修复 "
    "检查 协调 安全 老人 孩子 影响 出行 上次 现在 还是 一直 已经 请求 投诉 举报 咨询 政府 领导 单位 工作人员 "
    "没有 不能 可以 知道 来电 市民 村民 居民 我家 我们 他们 答复 回复 办理 落实 督促 管理 严重 村口 门口 家门口"
)
_GENERIC = frozenset(_GENERIC_WORDS.split())
_PLACE_SUFFIX = re.compile(r"[\u4e00-\u9fff]{1,5}?(?:村|镇|乡|街道|社区|小区|居委会)")


def place_names(county: County) -> tuple[str, ...]:
    """The county's township and village names (full and short forms)."""
    names: set[str] = set()
    for unit in county.townships():
        names.update(n for n in (unit.place, unit.short, *unit.villages) if n)
    return tuple(names)


def strip_places(text: str, places: Sequence[str] = ()) -> str:
    """The text without place names (the county's, then anything that looks like 某某村/镇/社区):
    a place says where, not what."""
    for place in sorted(places, key=len, reverse=True):
        text = text.replace(place, " ")
    return _PLACE_SUFFIX.sub(" ", text)


def subject_words(text: str) -> set[str]:
    """The words that say what the matter is (jieba's TF-IDF keywords, nouns and verbs)."""
    import jieba.analyse

    words = jieba.analyse.extract_tags(text, topK=_KEYWORDS, allowPOS=_SUBJECT_POS)
    return {w for w in words if len(w) >= 2 and w not in _GENERIC}


def _shared(a: set[str], b: set[str]) -> int:
    # "月工资" and "工资", "烧烤摊" and "烧烤" name the same thing.
    return sum(any(x == y or x in y or y in x for y in b) for x in a)


def same_matter(new: str, old: str, *, places: Sequence[str] = ()) -> tuple[bool, float]:
    """Whether two complaints of the same caller are about the same matter, and how sure (0..1)."""
    a, b = strip_places(new, places), strip_places(old, places)
    wanted, grams = bigrams(a), bigrams(b)
    dice = 2 * len(wanted & grams) / (len(wanted) + len(grams)) if wanted and grams else 0.0
    if dice >= NEAR_IDENTICAL:
        return True, round(dice, 3)
    words_a, words_b = subject_words(a), subject_words(b)
    if not words_a or not words_b:
        return False, round(dice, 3)
    overlap = _shared(words_a, words_b) / min(len(words_a), len(words_b))
    return overlap >= SUBJECT_OVERLAP, round(max(overlap, dice), 3)
