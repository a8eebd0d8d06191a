"""classify_cases: topic model + severity + place + the accused unit, on realistic cases."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from hotline.services.classifier.classify import ClassifierParts, accused_unit, classify_cases
from hotline.services.classifier.model import TopicModel
from hotline.services.classifier.severity import load_severity_rules
from hotline.services.router.routing import route_case
from hotline.shared.catalogue import Catalogue
from hotline.shared.clock import FixedClock
from hotline.shared.domain.county import County, load_county, shield_accused
from hotline.shared.domain.matters import EMPTY
from hotline.shared.events import CaseReceived, Channel

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def model() -> TopicModel:
    return TopicModel.load()


def parts(model: TopicModel, county: County) -> ClassifierParts:
    """The county alone: no matter catalogue."""
    return ClassifierParts(model, load_severity_rules(), Catalogue(None, county, "", EMPTY, ""))


def received(content: str, **fields: object) -> CaseReceived:
    return CaseReceived(
        event_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        occurred_at=NOW,
        channel=Channel.PETITION,
        received_at=NOW,
        content=content,
        **fields,  # type: ignore[arg-type]
    )


def test_an_accusation_never_reaches_the_unit_named_in_its_text(model: TopicModel) -> None:
    county = load_county()
    case = received("检举县住建局某工作人员在办理施工许可时收受好处费，刁难不送礼的企业。", is_accusation=True)
    [classified] = classify_cases([case], parts(model, county), clock=FixedClock(NOW))
    assert classified.accused_unit == "县住建局"
    routed = route_case(classified, county=county, clock=FixedClock(NOW))
    assert routed.unit_name != "县住建局" and "zjj" not in routed.co_units  # co_units are codes


def test_place_severity_and_topic_travel_together(model: TopicModel) -> None:
    case = received("湖头镇一家小餐馆昨晚多人食物中毒，其中有三名学生还在医院。")
    [classified] = classify_cases([case], parts(model, load_county()), clock=FixedClock(NOW))
    assert classified.township == "湖头镇"
    assert classified.severity.value in ("较大", "重大", "特别重大") and classified.severity_reasons


def test_the_review_threshold_setting_reaches_the_model() -> None:
    from hotline.services.classifier.app import load_model_from
    from hotline.shared.settings import Settings

    strict = load_model_from(Settings(HOTLINE_REVIEW_THRESHOLD=1.0))
    [prediction] = strict.predict(["小区门口的路灯坏了，晚上很黑"])
    assert strict.threshold == 1.0 and prediction.needs_review  # nothing is certain enough


def test_a_township_named_only_as_the_place_of_a_ticked_accusation_is_not_accused() -> None:
    county = load_county()
    # A neighbour's building in a village: the township is where it happened, not the accused.
    text = "检举：邻居占了村里的公共通道盖了猪圈。地点：城厢镇砖文村。"
    assert accused_unit(received(text, is_accusation=True), text, county) == "城厢镇砖文村"
    # The township's government named, or the township on its own, is accused as before.
    text = "检举城厢镇政府在砖文村违规收费。"
    assert accused_unit(received(text, is_accusation=True), text, county) == "城厢镇人民政府"
    text = "检举：城厢镇在城厢镇砖文村搞形象工程。"
    assert accused_unit(received(text, is_accusation=True), text, county) == "城厢镇人民政府"
    # The shield keeps a village's case with its township (the village is not a unit of the table).
    lead, _, note = shield_accused("town-chengxiang", (), "城厢镇砖文村", county)
    assert lead == "town-chengxiang" and "下辖村" in note
