"""Routing decisions for realistic cases of the sample county 清溪县."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from hotline.services.router.routing import needs_routing, route_case, urgent_despite_on_spot
from hotline.shared.clock import FixedClock
from hotline.shared.dispatching import URGENT_ON_SPOT_NOTE
from hotline.shared.domain.county import County, find_township, find_unit, load_county, route
from hotline.shared.events import CallOutcome, CaseClassified, Channel, DecidedBy, EmergencyLine, Severity


@pytest.fixture(scope="module")
def county() -> County:
    return load_county()


@pytest.mark.parametrize(
    ("topic", "subtopic", "unit"),
    [
        ("城乡建设", "拆迁安置", "县住建局"),  # 旧城改造拆迁安置房迟迟未交付
        ("城乡建设", "保障性住房", "县住建局"),  # 公租房摇号不公开
        ("城乡建设", "农村危房改造", "县住建局"),  # 危房改造补助没发
        ("城乡建设", "市政服务", "县城管局"),  # 路灯不亮、井盖缺失
        ("卫生计生", "食品药品监管", "县市场监管局"),  # 药店卖过期药
        ("商贸旅游", "食品药品监管", "县市场监管局"),  # 学校门口小摊卫生差
        ("卫生计生", "医患纠纷", "县卫健委"),  # subtopic not configured: the topic's default row
        ("政法", "户籍证件", "县公安局"),  # 身份证补办
        ("政法", "仲裁与调解", "县司法局"),
        ("国土资源", "土地征收", "县自然资源局"),
        ("农村农业", "惠农补贴", "县农业农村局"),  # 耕地地力保护补贴未到账
        ("农村农业", "扶贫开发", "县农业农村局"),
        ("民政", "社会救助", "县民政局"),  # 低保被取消
        ("教育文体", "义务教育", "县教育局"),  # 孩子入学学位
        ("教育文体", "文物管理", "县文旅局"),
        ("劳动和社会保障", "工资福利", "县人社局"),  # 工地欠薪
        ("环境保护", "环境污染", "县生态环境局"),  # 石材厂粉尘
        ("交通运输", "出租车管理", "县交通运输局"),
        ("纪检监察", "干部作风", "县纪委监委"),
        ("党务政务", "宣传舆论", "县网信办"),
        ("经济管理", "财政预决算", "县财政局"),
        ("科技与信息产业", "电信", "县工信科技局"),
    ],
)
def test_topic_without_township_goes_to_the_department(county: County, topic: str, subtopic: str, unit: str) -> None:
    decision = route(topic=topic, subtopic=subtopic, township=None, county=county)
    assert decision.unit_name == unit
    assert decision.reason.startswith(f"主题 {topic}/{subtopic}")


def test_township_assists_demolition(county: County) -> None:
    decision = route(topic="城乡建设", subtopic="拆迁安置", township="城厢镇", county=county)
    assert (decision.unit_code, decision.unit_name) == ("zjj", "县住建局")
    assert decision.co_units == ("zrzyj", "town-chengxiang")
    assert decision.reason == "主题 城乡建设/拆迁安置 → 县住建局；县自然资源局 协办；属地 城厢镇 协办"


def test_township_leads_land_requisition_with_department_assisting(county: County) -> None:
    # 征地补偿款迟迟未发放: the township pays out, 自然资源局 supervises.
    decision = route(topic="国土资源", subtopic="征地补偿", township="湖头", county=county)
    assert decision.unit_name == "湖头镇人民政府"
    assert decision.co_units == ("zrzyj",)
    assert "属地 湖头镇 主办" in decision.reason


@pytest.mark.parametrize(("topic", "subtopic"), [("农村农业", "惠农补贴"), ("民政", "社会救助"), ("农村农业", None)])
def test_township_leads_rural_and_civil_affairs(county: County, topic: str, subtopic: str | None) -> None:
    decision = route(topic=topic, subtopic=subtopic, township="长坑乡人民政府", county=county)
    assert decision.unit_code == "town-changkeng"
    assert decision.co_units[0] in ("nyncj", "mzj")


def test_department_only_topics_ignore_the_township(county: County) -> None:
    decision = route(topic="政法", subtopic="户籍证件", township="西坪镇", county=county)
    assert decision.unit_name == "县公安局"
    assert decision.co_units == ()


def test_township_given_by_code_or_with_county_prefix(county: County) -> None:
    for name in ("town-xinan", "溪南街道", "清溪县溪南街道", "溪南街道办事处", "溪南"):
        decision = route(topic="环境保护", subtopic="环境污染", township=name, county=county)
        assert decision.co_units == ("town-xinan",), name


def test_unknown_township_is_noted_and_ignored(county: County) -> None:
    decision = route(topic="环境保护", subtopic=None, township="泉州市鲤城区", county=county)
    assert decision.unit_name == "县生态环境局"
    assert decision.co_units == ()
    assert "泉州市鲤城区 不在本县" in decision.reason


@pytest.mark.parametrize("topic", ["外星人投诉", "", "其他"])
def test_unknown_topic_goes_to_manual_sorting(county: County, topic: str) -> None:
    decision = route(topic=topic, subtopic=None, township="城厢镇", county=county)
    assert (decision.unit_code, decision.unit_name) == ("rxb", "县热线办")
    assert "人工分拣" in decision.reason


def test_pilot_domain_without_topic_routes_by_subtopic(county: County) -> None:
    decision = route(topic="", subtopic="义务教育", township=None, county=county)
    assert decision.unit_name == "县教育局"
    # "安全生产" sits under two topics with different units: that is for a person to decide.
    ambiguous = route(topic="", subtopic="安全生产", township=None, county=county)
    assert ambiguous.unit_code == "rxb"


def test_accusation_against_the_lead_goes_to_its_supervisor(county: County) -> None:
    # 举报县住建局工作人员在拆迁评估中收受好处
    decision = route(
        topic="城乡建设",
        subtopic="拆迁安置",
        township="城厢镇",
        county=county,
        is_accusation=True,
        accused_unit="清溪县住建局",
    )
    assert decision.unit_name == "县政府办"
    assert "zjj" not in decision.co_units
    assert "不得转被检举单位 县住建局" in decision.reason
    assert "信访工作条例 第三十条" in decision.reason


def test_accusation_against_a_township_goes_to_discipline_commission(county: County) -> None:
    # 控告城厢镇干部截留征地补偿款: townships have no supervisor configured.
    decision = route(
        topic="国土资源",
        subtopic="土地征收",
        township="城厢镇",
        county=county,
        is_accusation=True,
        accused_unit="城厢镇党委书记",
    )
    assert decision.unit_name == "县纪委监委"
    assert "town-chengxiang" not in decision.co_units
    assert "未配置上级单位" in decision.reason


def test_accusation_against_village_cadres_stays_with_the_township(county: County) -> None:
    # 举报砖文村村干部优亲厚友评低保: the township supervises the village and keeps the case.
    decision = route(
        topic="民政",
        subtopic="社会救助",
        township="城厢镇",
        county=county,
        is_accusation=True,
        accused_unit="城厢镇砖文村村委会",
    )
    assert decision.unit_code == "town-chengxiang"
    assert "下辖村（社区）" in decision.reason


def test_accused_co_unit_is_dropped(county: County) -> None:
    decision = route(
        topic="城乡建设",
        subtopic="拆迁安置",
        township=None,
        county=county,
        is_accusation=True,
        accused_unit="zrzyj",
    )
    assert decision.unit_name == "县住建局"
    assert decision.co_units == ()
    assert "县自然资源局 不列为协办" in decision.reason


def test_accusation_against_the_discipline_commission_goes_to_manual_sorting(county: County) -> None:
    decision = route(
        topic="纪检监察",
        subtopic=None,
        township=None,
        county=county,
        is_accusation=True,
        accused_unit="县纪委",
    )
    assert decision.unit_code == "rxb"
    assert "报上级机关" in decision.reason


def test_accused_unit_is_ignored_unless_the_case_is_an_accusation(county: County) -> None:
    decision = route(topic="城乡建设", subtopic="拆迁安置", township=None, county=county, accused_unit="zjj")
    assert decision.unit_code == "zjj"


def test_unmatched_accused_name_asks_for_a_check(county: County) -> None:
    decision = route(
        topic="农村农业",
        subtopic=None,
        township=None,
        county=county,
        is_accusation=True,
        accused_unit="某老板",
    )
    assert decision.unit_name == "县农业农村局"
    assert "请人工核对" in decision.reason


def test_find_helpers(county: County) -> None:
    assert find_unit("县环保局", county) is county.units["sthjj"]
    assert find_unit("清溪县市场监督管理局", county) is county.units["scjgj"]
    assert find_unit("县交通运输局副局长", county) is county.units["jtj"]
    assert find_township("蓝田", county) is county.units["town-lantian"]
    assert find_township("县住建局", county) is None


T0 = datetime(2026, 11, 24, tzinfo=UTC)


def classified_call(**fields: object) -> CaseClassified:
    base = CaseClassified(
        event_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        occurred_at=T0,
        channel=Channel.HOTLINE,
        received_at=T0,
        topic="城乡建设",
        severity=Severity.GENERAL,
        confidence=0.9,
        model_version="m",
    )
    return base.model_copy(update=fields)


def test_the_router_leaves_a_persons_decision_alone() -> None:
    event = classified_call()
    assert needs_routing(event)
    assert not needs_routing(event, routed_by_person=True)
    assert not needs_routing(event.model_copy(update={"decided_by": DecidedBy.PERSON}))


def on_spot_call(*, urgent: bool) -> CaseClassified:
    lines = [EmergencyLine.POLICE, EmergencyLine.AMBULANCE] if urgent else []
    return classified_call(outcome=CallOutcome.ANSWERED_ON_SPOT, urgent=urgent, urgent_lines=lines)


def test_a_call_answered_on_the_spot_is_not_routed() -> None:
    assert not urgent_despite_on_spot(on_spot_call(urgent=False))
    assert not needs_routing(on_spot_call(urgent=False))


def test_an_urgent_call_answered_on_the_spot_is_still_routed_and_says_why() -> None:
    case = on_spot_call(urgent=True)
    assert urgent_despite_on_spot(case) and needs_routing(case)
    assert not needs_routing(case, routed_by_person=True)  # a person's routing still wins
    routed = route_case(case, clock=FixedClock(T0))
    assert routed.urgent and routed.unit_code and routed.reason.endswith(URGENT_ON_SPOT_NOTE)
    assert "当场解释" in URGENT_ON_SPOT_NOTE and "紧急" in URGENT_ON_SPOT_NOTE
    transfer = route_case(case.model_copy(update={"outcome": CallOutcome.TRANSFER}), clock=FixedClock(T0))
    assert URGENT_ON_SPOT_NOTE not in transfer.reason
