"""The learned matter model as evidence: probabilities summed per leading unit, weighed with the terms."""

from __future__ import annotations

from pathlib import Path

from hotline.shared.domain.county import find_township, load_county
from hotline.shared.domain.dispatch import Evidence, Locality, decide, unit_of
from hotline.shared.domain.matters import MatterHit, identify, load_matters

COUNTY = load_county()
MATTERS = load_matters(Path(__file__).parents[1] / "data" / "matters_fixture.toml", county=COUNTY)


def with_model(text: str, learned: dict[str, float], topic: str = "城乡建设", **more: object) -> Evidence:
    """Term hits of ``text`` plus the model's probabilities, as the classifier puts them on the event."""
    hits = {h.code: h for h in identify(text, MATTERS)}
    merged = [MatterHit(h.code, h.score, h.words, learned.get(h.code, 0.0)) for h in hits.values()]
    merged += [MatterHit(code, 0.0, (), p) for code, p in learned.items() if code not in hits]
    return Evidence(topic=topic, confidence=0.5, matters=tuple(merged), **more)  # type: ignore[arg-type]


def route(evidence: Evidence) -> tuple[str, str | None, bool]:
    d = decide(evidence, county=COUNTY, matters=MATTERS)
    return d.unit_code, d.matter_code, d.to_person


def test_the_model_alone_decides_a_matter_the_terms_do_not_know() -> None:
    text = "隔壁天天半夜拉二胡唱歌，觉都睡不成"  # no catalogue word
    assert identify(text, MATTERS) == []
    assert route(with_model(text, {"noise-social": 0.9, "construction-noise": 0.05})) == ("gaj", "noise-social", False)


def test_probabilities_add_up_per_unit_before_deciding() -> None:
    # No single matter is likely enough, but both of 住建局's are: the unit is clear, its likelier matter wins.
    learned = {"construction-noise": 0.46, "property-service": 0.42, "noise-social": 0.12}
    assert route(with_model("说不清是谁的事", learned)) == ("zjj", "construction-noise", False)


def test_a_model_sure_of_another_unit_outweighs_a_lone_weak_term() -> None:
    text = "小区广场舞音响太吵了"
    assert route(with_model(text, {"noise-social": 0.95})) == ("gaj", "noise-social", False)
    # The same words, but the model reads the text as a property-management complaint.
    assert route(with_model(text, {"property-service": 0.99})) == ("zjj", "property-service", False)


def test_unsure_terms_and_an_unsure_model_go_to_a_person_with_candidates() -> None:
    learned = {"consumer": 0.3, "water-fees": 0.25, "property-service": 0.2, "noise-social": 0.15}
    d = decide(with_model("我要反映个事情", learned, topic="人工分拣"), county=COUNTY, matters=MATTERS)
    assert d.to_person
    assert [c.unit_code for c in d.candidates] == ["scjgj", "gsgs", "zjj"]  # likeliest first


def test_the_models_class_alone_needs_the_learned_models_backing() -> None:
    text = "说不清是谁的事"  # no catalogue word: the topic model's class is all there is
    backed = with_model(text, {"property-service": 0.05, "noise-social": 0.12})
    unbacked = with_model(text, {"noise-social": 0.12, "consumer": 0.1})
    for evidence, person in ((backed, False), (unbacked, True)):
        confident = Evidence(topic="城乡建设", confidence=0.95, matters=evidence.matters)
        d = decide(confident, county=COUNTY, matters=MATTERS)
        assert (d.unit_code, d.to_person) == (("rxb", True) if person else ("zjj", False)), d.reason


def test_the_township_leads_its_matters_in_the_model_too() -> None:
    town = find_township("湖头镇", COUNTY)
    assert unit_of(MATTERS.by_code["illegal-building"], Locality(town)) == "town-hutou"
    assert unit_of(MATTERS.by_code["illegal-building"], Locality()) == "cgj"
    evidence = with_model("村里那户人家房子越盖越高", {"illegal-building": 0.9}, township="湖头镇")
    assert route(evidence) == ("town-hutou", "illegal-building", False)


def test_an_accusation_of_officials_is_not_outvoted_by_the_model() -> None:
    text = "举报湖头镇村干部侵占集体土地补偿款，还吃拿卡要。"
    evidence = with_model(text, {"land-acquisition": 0.9}, topic="国土资源", township="湖头镇")
    assert route(evidence)[:2] == ("jwjw", "discipline")


def test_village_facilities_are_the_townships_in_a_village_and_the_county_units_in_town() -> None:
    toilets = MATTERS.by_code["public-toilets"]
    assert toilets.township == "village"
    town = find_township("湖头镇", COUNTY)
    assert unit_of(toilets, Locality(town, rural=True)) == "town-hutou"
    assert unit_of(toilets, Locality(town, rural=False)) == toilets.lead  # the county town
    assert unit_of(toilets, Locality(None, rural=True)) == toilets.lead  # no township known
    in_village = with_model("村里的公共厕所锁了", {"public-toilets": 0.9}, township="湖头镇", rural=True)
    d = decide(in_village, county=COUNTY, matters=MATTERS)
    assert (d.unit_code, d.matter_code) == ("town-hutou", "public-toilets")
    assert "属地 湖头镇（村内） 主办" in d.reason
