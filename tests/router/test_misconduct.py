"""Officials' misconduct in plain words reads as a 检举/控告; ordinary complaints about officials do not."""

from __future__ import annotations

import pytest

from hotline.shared.domain.county import load_county
from hotline.shared.domain.dispatch import Evidence, decide
from hotline.shared.domain.matters import identify, load_matters
from hotline.shared.domain.misconduct import misconduct

COUNTY = load_county()
MATTERS = load_matters(county=COUNTY)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("我们村支书把上面发的危房补助款揣到自己兜里了。", "村支书+兜里"),
        ("派出所的一个民警收了赌场老板的钱，每次检查前都给他们通风报信。", "民警+收了+钱"),
        ("镇里有个干部一年到头都不来上班，工资照拿。", "干部+工资照拿"),
        ("那个村支书的老婆都吃上低保了。", "村支书+老婆+低保"),
        ("办个证还要吃拿卡要。", "吃拿卡要"),
        ("退耕还林的钱，一大半进了村会计的口袋。", "村会计+口袋"),
        ("办准生证时那个所长说要表示一下才给盖章。", "所长+表示一下"),
        ("乡里干部来检查，临走时说请他吃顿饭这事就算了。", "干部+吃顿饭"),
        ("村主任的侄媳妇在村里挂名当护林员，每月领钱。", "村主任+挂名"),
        ("清明节那天一辆公务车停在陵园门口，一家人下来扫墓。", "公务车"),
        ("单位年底聚餐在高档会所，喝的都是好酒，违反八项规定。", "八项规定"),
        ("市场管理所的队员每周来收五十块卫生费，从来不开收据。", "队员+不开收据"),
        ("社保窗口的办事员说不送红包就一直拖着不办。", "办事员+红包"),
        ("村里的排水沟工程，承包的是村主任的小舅子。", "村主任+承包+小舅子"),
        ("镇长开会一句话定调子，群众意见一概不听，官僚主义严重。", "官僚主义"),
        ("县纪委：\n我反映我们镇财政所的事情，账目多年不公开。", "致纪委"),
        ("夜市摆摊的都要给那个中队长交保护费，一个月两百。", "中队长+保护费"),
        ("会计把他哥哥家报进了低保名单。", "会计+低保+哥哥"),
        ("我去年反映了修路的问题，今年补贴就被停了，这就是打击报复。", "打击报复"),
        ("几个村干部在饭店吃完，说挂村委的账。", "村干部+挂+的账"),
        # Money asked for to speed a file up, or in private; gift cards taken to an official's home.
        ("窗口的工作人员说，拿五百块就能快一点批下来。", "工作人员+块+就能快"),
        ("去所里办证，经办人私下说要表示，开口就要八百块。", "经办人+私下+块"),
        ("过年前厂里把两张购物卡送到了股长家里。", "股长+购物卡+送到"),
        # An official threatening the person who reported.
        ("我反映了工地扬尘，镇里的干部就打电话来说我再举报就断我家低保。", "干部+再举报"),
        ("村支书在村民大会上点名威胁举报人，说要让他在村里待不下去。", "村支书+威胁+举报人"),
        # Round seven: gifts for a benefit, subsidies cut, premiums kept, work claimed, goods taken home,
        # the unit's car for the family, cards in working hours, public property let to a relative.
        ("镇里管低保的那个干部，谁家给他送了烟酒，谁家就能评上。", "干部+送+烟酒"),
        ("乡财政所的人把我们的补贴扣了一半，说是管理费。", "所的人+扣了+补贴"),
        ("村会计把村民的养老保险费收了，没有交上去。", "村会计+收了+没有交"),
        ("村里修路，村主任报了三公里，实际只修了两公里。", "村主任+报了+实际只"),
        ("村里的扶贫鸡苗被村干部拿回家自己养了。", "村干部+拿回家+自己养"),
        ("我们镇的镇长周末开着单位的车带老婆孩子去海边玩。", "镇长+单位的车+老婆"),
        ("那个所长上班时间经常在茶楼打牌，办事的人找不到他。", "所长+上班时间+打牌"),
        ("我们村的书记把村里的山场偷偷租给他亲家，租金没进村账。", "书记+租给+亲家"),
        ("环保局的人来检查，工厂老板请他们吃了一顿，第二天就没事了。", "局的人+吃了一顿"),
        # Round eight: money for letting a driver go with no ticket, a meal hinted at to move a file,
        # a sibling (in dialect too) given the benefit.
        ("路政的执法人员说车超宽，私下讲给三百块就放我走。", "执法人员+放我走+块"),
        ("那个协警收了我两百块现金，罚单都没开就挥手让我走了。", "协警+罚单都没开"),
        ("窗口的办事员说材料还要再审，暗示我晚上请他吃个饭。", "办事员+吃个饭"),
        ("我们社区主任的姐姐家里开着两家厂，照样领着低保。", "社区主任+低保+姐姐"),
        ("阮村的村主任，伊的阿兄有店面有车，也在领低保。", "村主任+低保+阿兄"),
        ("站所的工作人员说办这个要交三百块辛苦钱，不给就不办。", "工作人员+不给就不办"),
    ],
)
def test_misconduct_is_found_in_plain_words(text: str, found: str) -> None:
    assert found in misconduct(text)


@pytest.mark.parametrize(
    "text",
    [
        "村干部说路灯下个月修，到现在还没修。",  # an official, no corrupt act
        "超市收了我的钱却不给发票。",  # an act, no official
        "村干部在村口。钱被小偷偷了，收了报警回执。",  # official and act in different sentences
        "班主任让家长交资料费。",
        "村干部说修路对大家都有好处。",
        "银行办卡收了二十块手续费，合理吗？",  # an act, no official
        "公交车上有人抽烟，司机也不管。",  # 公交车 is not 公车
        "饭店吃完饭不给收据，也不开发票。",  # no official
        "隔壁工地是老板的外甥承包的，晚上施工太吵。",  # a relative and a contract, no official
        "我上个月向县纪委反映过邻居占道的事，至今没人管。",  # 纪委 mentioned, not addressed
        "村卫生所的医生给我打点滴用了过期的药，工作人员不理。",  # 打点滴 is not 打点
        "工作人员说交了钱就能办，收费标准贴在墙上。",  # a posted fee is not a bribe
        "超市的工作人员说购物卡不能退也不能送人。",  # a gift card with no official to take it
        "村干部让我把表格拿回家自己填好再交上来。",  # taken home to fill in, not to keep
        "公安局的人说被盗的电动车找到了，让我去领。",  # an office's staff, no corrupt act
        "单位的车停在小区门口挡住了消防通道。",  # the unit's car, no official's family
        "交警把我拦下来查了驾照，说没问题就放我走了。",  # let go, no money asked
        "我姐姐一个人带孩子，想申请低保，不知道找哪里。",  # a sibling and 低保, no official
        "物业说我家不给物业费就不办门禁卡。",  # a company's fee, no official
    ],
)
def test_ordinary_complaints_are_not_accusations(text: str) -> None:
    assert misconduct(text) == ()


def test_misconduct_goes_to_the_discipline_commission_whatever_the_subject() -> None:
    text = "我们村支书把上面发的危房补助款揣到自己兜里了，在湖头镇竹山村。"
    found = Evidence(
        topic="城乡建设",
        subtopic="农村危房改造",
        confidence=0.95,
        matters=tuple(identify(text, MATTERS)),
        township="湖头镇",
        misconduct=misconduct(text),
    )
    d = decide(found, county=COUNTY, matters=MATTERS)
    assert (d.unit_code, d.topic, d.co_units) == ("jwjw", "纪检监察", ())
    assert "匹配：村支书+兜里" in d.reason


def test_a_ticked_accusation_naming_an_official_is_enough_but_not_one_against_a_company() -> None:
    assert misconduct("我要反映某局副局长陈某某的问题。", ticked=True) == ("检举控告+局长",)
    assert misconduct("我要反映某局副局长陈某某的问题。") == ()
    assert misconduct("我实名检举某局副局长陈某某。") == ("检举+局长",)
    assert misconduct("我向村支书举报了邻居乱搭乱建。") == ()
    assert misconduct("控告某房地产公司虚假宣传，交房与合同不符。", ticked=True) == ()
    # The accused is named first; an official met later, or the one addressed, is not accused.
    assert misconduct("检举：邻居在基本农田上建房。村干部劝过他也不听。", ticked=True) == ()
    assert misconduct("县领导：\n我检举我们村的养殖场往河里排污水。", ticked=True) == ()
    assert misconduct("县领导：\n我要反映我们镇的副镇长陈某某。", ticked=True) == ("检举控告+镇长",)
