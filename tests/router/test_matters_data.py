"""The matter catalogue (事项目录, ``shared/domain/matters.toml``) is well-formed data.

The engine that reads it lives elsewhere; these checks hold the file itself to the agreed format so that
a county editing it learns about a typo here rather than at routing time.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from typing import Any

import pytest

from hotline.shared.domain.county import DEPARTMENT, load_county
from hotline.shared.domain.matters import CLASSES, DEFAULT_MATTERS_PATH, TOWN

MATTERS_PATH = DEFAULT_MATTERS_PATH
KEYS = {"code", "name", "class", "lead", "assist", "township", "terms", "exclude", "basis", "priority"}
CODE_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


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
        if not isinstance(lead, str) or lead not in units or units[lead].kind != DEPARTMENT:
            problems.append(f"{where}: lead {lead!r} is not a department in county.toml")
        assist = m.get("assist", [])
        for code in assist:
            if code != TOWN and (code not in units or units[code].kind != DEPARTMENT):
                problems.append(f"{where}: assist {code!r} unknown")
        if lead in assist or len(set(assist)) != len(assist):
            problems.append(f"{where}: assist repeats a unit")
        role = m.get("township", "none")
        if role not in ("lead", "assist", "village", "none"):
            problems.append(f"{where}: township {role!r}")
        # "town" in assist and township = "assist" say the same thing: keep them in step ("village"
        # matters may have the township assist in the county town).
        if role != "village" and (TOWN in assist) != (role == "assist"):
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


# Calls as people make them (written for this test, one or more per class), with the matter each should
# reach. The engine ranks matters; this only checks that the data lets the right one match and that no
# matching neighbour outranks it by priority.
SAMPLE_CALLS = (
    ("我们这栋楼从昨晚开始停水，到现在水龙头还是不出水。", "water-outage"),
    ("整条街晚上又停电了，一个星期停了三次。", "power-outage"),
    ("厨房里一股煤气味，是不是燃气泄漏了？", "gas-safety"),
    ("小区门口的井盖不见了，晚上很危险。", "manhole-covers"),
    ("菜市场门口一排摆摊卖菜的，把人行道都占了。", "street-vendors"),
    ("楼下的烧烤店油烟直接往我家窗户里灌。", "catering-fumes"),
    ("物业费一年涨两次，物业公司也不公示账目。", "property-fee"),
    ("小区电梯又坏了，上个月还困过人。", "special-equipment"),
    ("我们单位一直不给交社保，离职了才发现。", "social-insurance-contribution"),
    ("老板拖欠工资三个月了，十几个工人都拿不到钱。", "wage-arrears"),
    ("健身房突然关门，办的会员卡里还有两千块钱。", "prepaid-cards"),
    ("超市卖的牛奶过期了还摆在货架上。", "food-safety-shops"),
    ("工地每天半夜还在施工，吵得整栋楼睡不着。", "noise-construction"),
    ("楼上邻居每天半夜唱歌，音响开得很大声。", "noise-home-entertainment"),
    ("广场舞音乐从早上六点放到八点。", "noise-square-dance"),
    ("村后面的养猪场臭气熏天，猪粪直接排到溪里。", "livestock-pollution"),
    ("有人开着车在小区门口乱停，把消防通道都堵了。", "illegal-parking"),
    ("出租车司机不打表，二十块的路要我五十。", "taxi"),
    ("快递放在驿站好几天了，快递员从来不送货上门。", "express-delivery"),
    ("孩子户口在乡下，想迁到县城落户要什么材料？", "household-registration"),
    ("我妈接到电话说是公安局的，被骗了三万块转账。", "fraud"),
    ("她老公喝了酒就动手，这次把她打进了医院。", "domestic-violence"),
    ("新生儿的医保怎么参保？报销比例是多少？", "medical-insurance"),
    ("县医院误诊，耽误了治疗，要求医院赔偿。", "medical-disputes"),
    ("培训机构收了一年学费就跑路了，学费不退。", "training-institutions"),
    ("学校每学期都让家长买教辅资料，还收资料费。", "school-fees"),
    ("我家是贫困户，今年的种粮补贴一分钱都没到。", "farmland-subsidy"),
    ("村里的帐目从来不公开，村务公开栏是空的。", "village-affairs-openness"),
    ("有人在河道里偷偷采砂，晚上挖沙船一直在响。", "river-sand-mining"),
    ("后山有人乱砍滥伐，一片杉木林都被砍光了。", "logging"),
    ("我们村的地被征了，征地补偿款到现在还没发。", "land-expropriation"),
    ("邻居在耕地上建房，占用耕地好几亩。", "illegal-land-use"),
    ("我爸瘫痪在床，家里想申请低保，要找谁？", "minimum-living"),
    ("父亲去世了，火化和丧葬费补助怎么办理？", "funeral"),
    ("镇里有个副镇长收受开发商财物，还帮他批地。", "bribery-corruption"),
    ("村干部把低保都给了自己亲戚，这是人情保。", "assistance-favouritism"),
    ("我的党组织关系从外省转回来，要去哪里办？", "party-membership"),
    ("政务服务中心窗口的工作人员态度很差，爱答不理。", "government-service"),
    ("公司开票被税务局说是虚开发票，怎么处理？", "invoices"),
    ("工厂里的工人没有安全措施，安全生产隐患很大。", "work-safety"),
    ("家里宽带经常断网，报修了三次都没人来。", "broadband"),
    ("我们村手机信号差，打电话经常断线。", "mobile-signal"),
    ("退伍军人的优抚金好几个月没发。", "veterans-benefits"),
    ("残疾证办下来了，残疾人两项补贴什么时候发？", "disability"),
    ("村道坑坑洼洼的，下雨天根本走不了，村路要修。", "village-roads"),
    ("有个公司拉老人存钱，说年息百分之十五，现在人找不到了。", "illegal-finance"),
    # Round eight: everyday matters in plain words.
    ("楼下有个醉汉拿着酒瓶追人，嘴里一直骂。", "drunk-disorder"),
    ("去年猪场发了疫病，全部扑杀了，说好的钱还没给。", "animal-culling-subsidy"),
    ("屋顶光伏装好半年了，供电所一直不给并网。", "pv-grid-connection"),
    ("有个老人露宿在公园长椅上，天这么冷没人管。", "temporary-assistance"),
    ("小区门口的公交候车亭玻璃碎了一地。", "bus-service"),
    ("隔壁村有个土医生在家里给人输液，出过好几次事。", "illegal-clinics"),
    ("请问要上访的话去哪里，需要先预约吗？", "petition-procedure"),
    ("手机突然用不了，说是实名信息要重新登记。", "telecom-billing"),
    ("镇里为了迎检，连夜把沿街的墙都刷了一遍。", "formalism-burdens"),
    ("我的社保卡丢了，要去哪里挂失补办？", "social-security-card"),
    ("听说生了二胎每年有育儿补贴，怎么领？", "childcare-allowance"),
    ("出生证上孩子的名字写错了，医院说要申请更正。", "birth-certificate-correction"),
    ("孩子刚出生，想问上户口要带什么。", "household-registration"),
    ("小区楼下的美容院在给人打玻尿酸，根本没有医疗资质。", "illegal-medical-beauty"),
)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("家里老人心脏不好，楼下街道上的广场舞音响太吵了。", "street-cleaning"),  # 心脏 is not 脏
        ("有人冒充快递客服说要理赔，让我开屏幕共享。", "express-delivery"),  # a scam, not a parcel
        ("有个自媒体编造我们的茶叶农残超标，要钱才删帖。", "food-residues"),  # a rumour, not residues
        ("新国标电动车买了三个月电池就坏了，店家不给保修。", "ev-registration"),  # warranty, not a plate
        ("光伏发的电一直不给并网，供电所说要排队。", "energy-policy"),  # the grid connection, not policy
        ("新生儿上户口要带出生证明吗？", "maternal-child"),  # a newborn's 户口 is the 派出所's
        ("种粮补贴打到社保卡里了，可一直没到账。", "social-security-card"),  # the subsidy, not the card
        ("私家车把小区消防通道堵死了，救护车都进不来。", "ambulance"),  # parking, not the 120 service
    ],
)
def test_a_neighbours_word_does_not_pull_the_case(matters: list[dict[str, Any]], text: str, code: str) -> None:
    by_code = {m["code"]: m for m in matters}
    assert not _matches(by_code[code], text), f"{code} matches {text!r}"


SENTENCE_END = re.compile(r"[。！？；!?;\n]")


def _matches(matter: dict[str, Any], text: str) -> bool:
    for sentence in SENTENCE_END.split(text):
        if any(word in sentence for word in matter.get("exclude", [])):
            continue
        if any(all(p in sentence for p in _parts(term)) for term in matter["terms"]):
            return True
    return False


@pytest.mark.parametrize(("text", "code"), SAMPLE_CALLS)
def test_typical_calls_reach_their_matter(matters: list[dict[str, Any]], text: str, code: str) -> None:
    by_code = {m["code"]: m for m in matters}
    assert _matches(by_code[code], text), f"{code} does not match {text!r}"
    mine = by_code[code].get("priority", 0)
    louder = [m["code"] for m in matters if m.get("priority", 0) > mine and _matches(m, text)]
    assert louder == [], f"{louder} outrank {code} on {text!r}"


def test_samples_cover_every_class(matters: list[dict[str, Any]]) -> None:
    classes = {m["code"]: m["class"] for m in matters}
    assert {classes[code] for _, code in SAMPLE_CALLS} == set(CLASSES)
