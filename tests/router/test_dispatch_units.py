"""The learned reading of who leads as evidence: it decides when sure, never over misconduct."""

from __future__ import annotations

from pathlib import Path

from hotline.shared.domain.county import load_county
from hotline.shared.domain.dispatch import UNIT_MODEL, Dispatch, Evidence, decide
from hotline.shared.domain.matters import TOWN, MatterHit, identify, load_matters

COUNTY = load_county()
MATTERS = load_matters(Path(__file__).parents[1] / "data" / "matters_fixture.toml", county=COUNTY)


def evidence(text: str, units: list[tuple[str, float]], threshold: float = 0.5, **more: object) -> Evidence:
    hits = tuple(MatterHit(h.code, h.score, h.words, 0.0) for h in identify(text, MATTERS))
    return Evidence(
        topic="城乡建设",
        confidence=0.5,
        matters=hits,
        units=tuple(units),
        units_threshold=threshold,
        **more,  # type: ignore[arg-type]
    )


def route(e: Evidence) -> Dispatch:
    return decide(e, county=COUNTY, matters=MATTERS)


def test_a_sure_reading_decides_and_says_so() -> None:
    d = route(evidence("隔壁天天半夜拉二胡唱歌", [("gaj", 0.81), ("zjj", 0.1)]))
    assert (d.unit_code, d.to_person) == ("gaj", False)
    assert f"{UNIT_MODEL}：县公安局（p=0.81）" in d.reason


def test_it_names_the_best_matter_of_its_unit_the_text_names() -> None:
    # The terms point at 住建局's 物业 matter; the reading is sure it is 公安's noise: its matter is named.
    d = route(evidence("物业公司不管楼上广场舞音响", [("gaj", 0.7)]))
    assert (d.unit_code, d.matter_code) == ("gaj", "noise-social")


def test_it_chooses_only_among_the_units_of_the_matters_named() -> None:
    # The catalogue in force names 住建局's 物业 matter only: a reading of 公安 does not take it over
    # (an admin may have moved a matter since the model was trained).
    d = route(evidence("物业费又涨了", [("gaj", 0.9)]))
    assert d.unit_code == "zjj" and UNIT_MODEL not in d.reason


def test_below_its_threshold_it_only_offers_a_candidate() -> None:
    e = Evidence(topic="人工分拣", units=(("mzj", 0.3), ("gaj", 0.2)), units_threshold=0.5)
    d = route(e)
    assert d.to_person
    assert [c.unit_code for c in d.candidates][:2] == ["mzj", "gaj"]
    assert all(c.matter == UNIT_MODEL for c in d.candidates[:2])


def test_the_township_leads_when_the_reading_says_town_and_a_township_is_known() -> None:
    known = route(evidence("路边乱搭乱建没人管", [(TOWN, 0.9)], township="湖头镇"))
    assert (known.unit_code, known.matter_code) == ("town-hutou", "illegal-building")
    # No township in the text or from the operator: the reading cannot say which, the rest decides.
    unknown = route(evidence("路边乱搭乱建没人管", [(TOWN, 0.9)]))
    assert not unknown.unit_code.startswith("town-")
    assert UNIT_MODEL not in unknown.reason


def test_misconduct_keeps_its_precedence() -> None:
    e = evidence("物业费收得太高", [("zjj", 0.95)], misconduct=("村支书+兜里",))
    assert route(e).unit_code == "jwjw"
    # An accusation matter the terms found decides too.
    assert route(evidence("村干部侵占集体的地", [("zrzyj", 0.95)])).unit_code == "jwjw"


def test_a_reading_of_the_discipline_commission_routes_there_away_from_the_accused() -> None:
    d = route(evidence("林业站的人私下要钱才给办证", [("jwjw", 0.7)], accused_unit="县林业局"))
    assert d.unit_code == "jwjw" and d.topic == "纪检监察"
    assert f"{UNIT_MODEL}：县纪委监委（p=0.70）" in d.reason


def test_a_person_sorting_by_hand_is_not_overruled_without_the_reading() -> None:
    # A person's classification carries no reading of who leads (units empty): their class decides.
    d = route(Evidence(topic="城乡建设", confidence=1.0, matters=(), units=(), units_threshold=0.5))
    assert UNIT_MODEL not in d.reason
