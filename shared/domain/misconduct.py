"""Misconduct of officials told in plain words: a 检举/控告 whether or not anyone ticked the box.

Callers rarely write 检举; they write "村支书把补助款揣到自己兜里". A sentence that names an official
(村干部, 局长, 民警 …) and a corrupt act (收了钱, 做假账, 冒领, 亲戚吃低保 …) reads as an accusation;
a few acts (贪污, 受贿, 吃拿卡要 …) are accusations on their own. Such a case goes to the discipline
commission and never to the unit accused. Pure; the word lists are small and scanned per sentence.
"""

from __future__ import annotations

from hotline.shared.domain.matters import sentences

# How a finding of the learned reading (services/classifier/misconduct_model.py) begins, so the router
# can say the reading was learned rather than matched.
LEARNED_MISCONDUCT = "模型判断为反映公职人员违纪违法"

# Who: people holding public office or power in a public body.
OFFICIALS = (
    "村干部",
    "村支书",
    "支书",
    "村书记",
    "支部书记",
    "第一书记",
    "村主任",
    "村委会主任",
    "村委主任",
    "社区主任",
    "社区书记",
    "居委会主任",
    "村长",
    "村会计",
    "村文书",
    "村官",
    "村两委",
    "村委",
    "驻村干部",
    "组长",
    "干部",
    "领导",
    "官员",
    "当官的",
    "公职人员",
    "国家工作人员",
    "局长",
    "科长",
    "股长",
    "处长",
    "部长",
    "所长",
    "站长",
    "镇长",
    "乡长",
    "县长",
    "书记",
    "工作人员",
    "公务员",
    "民警",
    "警察",
    "协警",
    "辅警",
    "交警",
    "法官",
    "检察官",
    "校长",
    "院长",
    "执法人员",
    "执法的人",
    "城管队员",
    "队员",
    "中队长",
    "网格员",
    "经办人",
    "报账员",
    "办事员",
    "会计",
    "经办的",
    # "财政所的人", "环保局的人": staff named by their office.
    "所的人",
    "局的人",
)
# What: each act is one word or "A+B" (both in the sentence), and counts only next to an official.
ACTS: tuple[str, ...] = (
    "收了+钱",
    "收钱",
    "收礼",
    "收受",
    "好处费",
    "拿好处",
    "收好处",
    "给点好处",
    "表示一下",
    "回扣",
    "红包",
    "送礼",
    "礼金",
    "索要",
    "索取",
    "敲诈",
    "勒索",
    "兜里",
    "口袋",
    "私吞",
    "侵吞",
    "贪占",
    "侵占",
    "私分",
    "挪用",
    "截留",
    "克扣+款",
    "克扣+补",
    # Money taken by an official with no receipt: a fine or fee that goes into a pocket.
    "不给收据",
    "没给收据",
    "不给票据",
    "不开票据",
    "不开收据",
    "做假账",
    "假账",
    "假发票",
    "挂名",
    "虚报",
    "虚增",
    "套取",
    "骗取",
    "冒领",
    "冒用",
    "冒名",
    "亲戚+低保",
    "亲属+低保",
    "老婆+低保",
    "家属+低保",
    "儿子+低保",
    "亲戚+补助",
    "亲戚+补贴",
    "亲属+补贴",
    "亲属+录用",
    "子女+录用",
    "亲属+招聘",
    "关系户",
    "走后门",
    "任人唯亲",
    "工资照拿",
    "不来上班",
    "吃空饷",
    "吃饭+拿",
    "吃顿饭",
    "吃喝",
    "宴请",
    "拿两条烟",
    "通风报信",
    "保护伞",
    "包庇",
    "纵容",
    "徇私",
    "工程+给她",
    "工程+给他",
    "工程全给",
    "老婆+公司+工程",
    "亲戚+承包",
    "亲属+承包",
    "没有公开招标",
    "侄子+承建",
    "小舅子",
    "手续费",
    "卖钱",
    "小金库",
    "公款",
    "公车",
    "买票",
    "拉票",
    "保护费",
    "跑腿费",
    "辛苦费",
    "塞+块",
    "塞+钱",
    "送了+块",
    "挂+的账",
    # Money asked for to speed a file up, or offered in private: "给两千块就能快点办".
    "块+就能快",
    "钱+就能快",
    "私下+块",
    "私下+要钱",
    "意思意思",
    "打点一下",
    "打点关系",
    # Gift cards delivered to an official ("购物卡装在月饼盒里送到科长家里").
    "购物卡+送到",
    "送了+购物卡",
    "收了+购物卡",
    "礼品卡+送到",
    "送了+礼品卡",
    "消费卡+送到",
    "加油卡+送到",
    # An official threatening whoever reports ("你再到处乱举报，……我让人明天就来拆").
    "乱举报",
    "再举报",
    "敢举报",
    "报复+举报人",
    "威胁+举报人",
    "恐吓+举报人",
    # Gifts for a favour, a treat for an inspection let off.
    "送了+烟",
    "送+烟酒",
    "吃了一顿",
    # Subsidies cut, premiums collected and kept, work claimed that was not done.
    "扣了+补贴",
    "扣了+补助",
    "扣了+补偿",
    "收了+没有交",
    "收了+没交",
    "报了+实际只",
    # Public goods taken home; the unit's car for the family; cards in working hours.
    "拿回家+自己用",
    "拿回家+自己养",
    "拿回+自己家",
    "据为己有",
    "单位的车+老婆",
    "单位的车+孩子",
    "单位的车+玩",
    "上班时间+打牌",
    "上班时间+打麻将",
    "工作时间+打牌",
    "工作时间+打麻将",
    "赌场+玩",
    # Money asked for at a roadside check to let the driver go, with no ticket: "给他五百块就放我走".
    "放我走+块",
    "放我走+钱",
    "放行+块",
    "没开罚单",
    "不开罚单",
    "罚单都没开",
    "单子都没开",
    "什么单子都没",
    # A meal hinted at to move a file along: "事情要办快，晚上一起吃个饭".
    "吃个饭",
    "请+吃饭",
    # A fee demanded with a threat to stall: "会计说要交两百块，不给就拖着不盖章".
    "不给就拖",
    "不给就不盖",
    "不给就不办",
    "不给钱就不",
    "不送就不办",
)
# An official's relative given the public work: "中标的是支书的外甥" (with the official in the sentence).
RELATIVES = (
    "亲家",
    "外甥",
    "侄子",
    "连襟",
    "小舅子",
    "女婿",
    "妹夫",
    "姐夫",
    "表弟",
    "弟弟",
    "哥哥",
    "亲戚",
    "老婆",
    "儿子",
    "女儿",
    # Siblings and in-laws, dialect included ("伊的阿兄也在领低保").
    "阿兄",
    "大哥",
    "姐姐",
    "妹妹",
    "嫂子",
    "弟媳",
    "舅舅",
    "叔叔",
    "堂哥",
    "堂弟",
    "表哥",
    "侄女",
    "外甥女",
    "岳父",
    "丈母娘",
    "老丈人",
    "小姨子",
)
AWARDED = ("中标", "承包", "承建", "租给", "分给", "划给")
# ... or the public benefit: "他把他自己弟弟家报上了危房改造".
GRANTED = ("低保", "危房", "补助", "补贴", "救助", "名额")
ACTS += tuple(f"{given}+{relative}" for given in (*AWARDED, *GRANTED) for relative in RELATIVES)
# An accusation aimed at an official: the official comes after one of these ("举报村支书…", while
# "向村支书举报邻居违建" reports someone else to an official).
AIMED = ("举报", "检举", "控告", "揭发")
# Acts that are accusations of officials on their own.
STRONG_ACTS = (
    "贪污",
    "受贿",
    "行贿",
    "索贿",
    "贪腐",
    "腐败",
    "吃拿卡要",
    "中饱私囊",
    "以权谋私",
    "权钱交易",
    "利用职权",
    "利用职务",
    "滥用职权",
    "玩忽职守",
    "贿选",
    "买官卖官",
    "吃空饷",
    "公款吃喝",
    "公车私用",
    # Callers name the public car and what it was used for, rarely the official: "政府的公车 … 买菜".
    "公车",
    "公务车",
    "公家的车",
    "八项规定",
    "优亲厚友",
    "小官巨贪",
    "萝卜坑",
    "萝卜招聘",
    "违规提拔",
    "小金库",
    "官僚主义",
    "官老爷",
    "打击报复",
)
# A letter that opens by addressing the discipline commission ("县纪委领导：") is an accusation for it;
# a mention further on ("我向纪委反映过邻居占道") is not.
ADDRESSEES = ("纪委", "监委", "纪检")
SALUTATION = 15  # characters at most before the colon that ends a salutation


def salutation(text: str) -> str:
    """The words before the colon of a letter's opening line ("县纪委领导："), or ""."""
    first = text.lstrip().split("\n", 1)[0]
    at = min((i for i in (first.find("："), first.find(":")) if i >= 0), default=-1)
    return first[:at] if 0 < at <= SALUTATION else ""


class _Words:
    """A fixed list of words, indexed by their first character: the words a sentence holds are found
    by checking only those that begin with one of its characters (checking all 534 acts' parts in every
    sentence that names an official cost a fifth of jieba's time on the same texts)."""

    __slots__ = ("_by_first",)

    def __init__(self, words: tuple[str, ...]) -> None:
        self._by_first: dict[str, list[str]] = {}
        for word in dict.fromkeys(words):
            self._by_first.setdefault(word[0], []).append(word)

    def present(self, sentence: str) -> set[str]:
        return {w for ch in set(sentence) for w in self._by_first.get(ch, ()) if w in sentence}


_ACT_PARTS = tuple((act, tuple(act.split("+"))) for act in ACTS)
_PARTS = _Words(tuple(part for _, parts in _ACT_PARTS for part in parts))


def _by_first_part() -> dict[str, list[int]]:
    """The acts' indices by their first part: a sentence is checked only for the acts whose first part
    it holds."""
    by_first: dict[str, list[int]] = {}
    for i, (_, parts) in enumerate(_ACT_PARTS):
        by_first.setdefault(parts[0], []).append(i)
    return by_first


_ACTS_FROM = _by_first_part()


def _acts_in(parts: set[str]) -> list[str]:
    """The acts all of whose parts are among ``parts``, in the order of ACTS."""
    candidates = sorted(i for part in parts for i in _ACTS_FROM.get(part, ()))
    return [_ACT_PARTS[i][0] for i in candidates if all(p in parts for p in _ACT_PARTS[i][1])]


_OFFICIAL_WORDS = _Words(OFFICIALS)
_STRONG_WORDS = _Words(STRONG_ACTS)


def _aimed_at(sentence: str, verb: str) -> tuple[str, ...]:
    at = sentence.find(verb)
    if at < 0:
        return ()
    after = sentence[at + len(verb) :]
    return tuple(who for who in OFFICIALS if who in after)[:1]


def misconduct(text: str, *, ticked: bool = False) -> tuple[str, ...]:
    """The official-and-act pairs (and strong acts) found, e.g. ("村支书+兜里",); () when none.

    ``ticked``: the petitioner ticked 检举/控告, so an official named as the accused is enough: in the
    first sentence after the salutation, where a petition names whom it accuses (a ticked accusation
    of a neighbour or a company stays with its matter, even if a 村干部 who tried to stop it appears
    later; "县领导：" is whom it is addressed to, not the accused).
    """
    found: list[str] = [f"致{who}" for who in ADDRESSEES if who in salutation(text)][:1]
    for sentence in sentences(text):
        strong = _STRONG_WORDS.present(sentence)
        found += [act for act in STRONG_ACTS if act in strong]
        named = _OFFICIAL_WORDS.present(sentence)
        official = next((who for who in OFFICIALS if who in named), None)
        if official is not None:
            parts = _PARTS.present(sentence)
            found += [f"{official}+{act}" for act in _acts_in(parts)]
            found += [f"{verb}+{who}" for verb in AIMED for who in _aimed_at(sentence, verb)]
    if ticked and not found:
        body = text.lstrip()[len(salutation(text)) :].lstrip("：: \n")
        opening = next(iter(sentences(body)), "")
        if (accused := next((who for who in OFFICIALS if who in opening), None)) is not None:
            found.append(f"检举控告+{accused}")
    return tuple(dict.fromkeys(found))
