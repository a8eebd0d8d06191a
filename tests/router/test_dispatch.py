"""The 派单 decision: matters over the model, 属地, accusations, subtopic rows, and 人工分拣 with candidates."""

from __future__ import annotations

from pathlib import Path

from hotline.shared.domain.county import load_county
from hotline.shared.domain.dispatch import Evidence, decide
from hotline.shared.domain.matters import identify, load_matters

COUNTY = load_county()
MATTERS = load_matters(Path(__file__).parents[1] / "data" / "matters_fixture.toml", county=COUNTY)


def evidence(text: str, topic: str = "城乡建设", confidence: float = 0.9998, **more: object) -> Evidence:
    return Evidence(topic=topic, confidence=confidence, matters=tuple(identify(text, MATTERS)), **more)  # type: ignore[arg-type]


def test_a_confident_matter_overrides_a_confident_model() -> None:
    # The model said 城乡建设/物业服务 with 0.9998 for square-dance noise.
    d = decide(evidence("小区广场舞音响太吵了", subtopic="物业服务"), county=COUNTY, matters=MATTERS)
    assert (d.unit_code, d.matter_code, d.topic, d.to_person) == ("gaj", "noise-social", "政法", False)
    assert d.reason == "事项：社会生活噪声 → 县公安局（噪声污染防治法第八十七条）；匹配：广场舞"


def test_a_named_township_assists_or_leads_as_the_matter_says() -> None:
    d = decide(evidence("小区广场舞太吵", township="城厢镇"), county=COUNTY, matters=MATTERS)
    assert (d.unit_code, d.co_units) == ("gaj", ("town-chengxiang",))
    d = decide(evidence("村里有人乱搭乱建", township="湖头镇"), county=COUNTY, matters=MATTERS)
    assert (d.unit_code, d.co_units) == ("town-hutou", ("cgj",))
    assert "属地 湖头镇 主办" in d.reason
    d = decide(evidence("村里有人乱搭乱建"), county=COUNTY, matters=MATTERS)
    assert (d.unit_code, d.co_units) == ("cgj", ())


def test_an_accusation_in_the_text_goes_to_the_discipline_commission_ticked_or_not() -> None:
    text = "举报湖头镇村干部侵占集体土地补偿款，还吃拿卡要。"
    for ticked in (False, True):
        found = evidence(text, topic="国土资源", township="湖头镇", is_accusation=ticked)
        d = decide(found, county=COUNTY, matters=MATTERS)
        assert (d.unit_code, d.matter_code) == ("jwjw", "discipline")
        assert "town-hutou" not in d.co_units


def test_the_accused_unit_never_handles_its_own_accusation() -> None:
    d = decide(
        evidence("县住建局工作人员吃拿卡要", is_accusation=True, accused_unit="县纪委监委"),
        county=COUNTY,
        matters=MATTERS,
    )
    assert d.unit_code != "jwjw"
    assert "不得转" in d.reason


def test_a_ticked_accusation_without_misconduct_words_is_routed_by_topic_and_shielded() -> None:
    d = decide(
        Evidence(topic="城乡建设", subtopic="拆迁安置", confidence=0.9, is_accusation=True, accused_unit="县住建局"),
        county=COUNTY,
        matters=MATTERS,
    )
    assert d.unit_code == "zfb"  # the supervisor of the accused 住建局


def test_subtopic_rows_are_tried_before_topic_defaults() -> None:
    d = decide(Evidence(topic="城乡建设", subtopic="征地补偿", confidence=0.95), county=COUNTY, matters=MATTERS)
    assert d.unit_code == "zrzyj"
    assert "国土资源/征地补偿" in d.reason


def test_no_matter_and_a_confident_model_routes_by_topic() -> None:
    d = decide(Evidence(topic="教育文体", subtopic="义务教育", confidence=0.95), county=COUNTY, matters=MATTERS)
    assert (d.unit_code, d.matter_code, d.to_person) == ("jyj", None, False)


def test_unsure_means_a_person_with_the_best_candidates() -> None:
    # Two weak matters of different units and a model in doubt.
    d = decide(
        evidence("网购退了货，水费也不对", topic="商贸旅游", confidence=0.3, needs_review=True),
        county=COUNTY,
        matters=MATTERS,
    )
    assert d.to_person and d.unit_code == "rxb" and d.topic == "人工分拣"
    assert [c.unit_code for c in d.candidates][:2] == ["scjgj", "gsgs"]
    assert d.candidates[0].matter == "消费纠纷"
    assert "人工分拣" in d.reason and "候选" in d.reason
    nothing = decide(Evidence(topic="人工分拣", confidence=0.2, needs_review=True), county=COUNTY, matters=MATTERS)
    assert nothing.to_person and nothing.candidates == ()


def test_a_matter_of_the_models_class_needs_less_evidence() -> None:
    weak = evidence("说好的退款一直没到", topic="商贸旅游", confidence=0.8)
    assert decide(weak, county=COUNTY, matters=MATTERS).unit_code == "scjgj"


def test_matters_unknown_to_the_catalogue_in_force_are_ignored() -> None:
    from hotline.shared.domain.matters import MatterHit

    stale = Evidence(topic="教育文体", confidence=0.9, matters=(MatterHit("gone", 9.0, ("x",)),))
    assert decide(stale, county=COUNTY, matters=MATTERS).unit_code == "jyj"
