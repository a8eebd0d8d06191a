"""Misconduct of officials told in plain words: a 检举/控告 whether or not anyone ticked the box.

Callers rarely write 检举; they write "村支书把补助款揣到自己兜里". A sentence that names an official
(村干部, 局长, 民警 …) and a corrupt act (收了钱, 做假账, 冒领, 亲戚吃低保 …) reads as an accusation;
a few acts (贪污, 受贿, 吃拿卡要 …) are accusations on their own. Such a case goes to the discipline
commission and never to the unit accused. Pure; the word lists are small and scanned per sentence.
"""

from __future__ import annotations

from hotline.shared.domain.matters import sentences

# Who: people holding public office or power in a public body.
OFFICIALS = (
    "村干部",
    "村支书",
    "支书",
    "村书记",
    "村主任",
    "村委会主任",
    "村长",
    "村会计",
    "村官",
    "村两委",
    "组长",
    "干部",
    "领导",
    "局长",
    "科长",
    "所长",
    "站长",
    "镇长",
    "乡长",
    "书记",
    "工作人员",
    "公务员",
    "民警",
    "警察",
    "协警",
    "辅警",
    "校长",
    "院长",
    "执法人员",
    "城管队员",
    "网格员",
)
# What: each act is one word or "A+B" (both in the sentence), and counts only next to an official.
ACTS = (
    "收了+钱",
    "收钱",
    "收受",
    "好处费",
    "回扣",
    "红包",
    "送礼",
    "兜里",
    "私吞",
    "侵占",
    "私分",
    "挪用",
    "截留",
    "克扣+款",
    "做假账",
    "假账",
    "虚报",
    "虚增",
    "套取",
    "冒领",
    "冒用",
    "冒名",
    "亲戚+低保",
    "亲属+低保",
    "老婆+低保",
    "家属+低保",
    "儿子+低保",
    "亲戚+补助",
    "亲属+录用",
    "子女+录用",
    "亲属+招聘",
    "工资照拿",
    "不来上班",
    "吃饭+拿",
    "拿两条烟",
    "通风报信",
    "保护伞",
    "工程+给她",
    "工程+给他",
    "工程全给",
    "老婆+公司+工程",
    "没有公开招标",
    "侄子+承建",
    "买票",
    "拉票",
    "打击报复",
)
# Acts that are accusations of officials on their own.
STRONG_ACTS = (
    "贪污",
    "受贿",
    "行贿",
    "索贿",
    "吃拿卡要",
    "中饱私囊",
    "以权谋私",
    "权钱交易",
    "贿选",
    "吃空饷",
    "公款吃喝",
    "公车私用",
    "优亲厚友",
    "小官巨贪",
    "萝卜坑",
    "萝卜招聘",
)


def _act_in(sentence: str, act: str) -> bool:
    return all(part in sentence for part in act.split("+"))


def misconduct(text: str, *, ticked: bool = False) -> tuple[str, ...]:
    """The official-and-act pairs (and strong acts) found, e.g. ("村支书+兜里",); () when none.

    ``ticked``: the petitioner ticked 检举/控告, so naming an official anywhere is enough (a ticked
    accusation of a neighbour or a company is not about officials and stays with its matter).
    """
    found: list[str] = []
    named: str | None = None
    for sentence in sentences(text):
        found += [act for act in STRONG_ACTS if act in sentence]
        official = next((who for who in OFFICIALS if who in sentence), None)
        if official is not None:
            named = named or official
            found += [f"{official}+{act}" for act in ACTS if _act_in(sentence, act)]
    if ticked and named is not None and not found:
        found.append(f"检举控告+{named}")
    return tuple(dict.fromkeys(found))
