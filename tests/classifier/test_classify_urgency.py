"""classify_cases and suggest carry the 紧急诉求 judgement, the severity signals from intake, and
the per-case time budget; the router passes urgency on."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from hotline.services.classifier.classify import OVER_BUDGET_REASON, ClassifierParts, classify_cases, suggest
from hotline.services.classifier.model import TopicModel
from hotline.services.classifier.severity import load_severity_rules
from hotline.services.classifier.urgency import load_urgency_rules
from hotline.services.router.routing import route_case
from hotline.shared.catalogue import Catalogue, packaged
from hotline.shared.clock import FixedClock
from hotline.shared.domain.county import load_county
from hotline.shared.domain.matters import EMPTY
from hotline.shared.events import CaseClassified, CaseReceived, Channel, EmergencyLine

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def model() -> TopicModel:
    return TopicModel.load()


def received(content: str, channel: Channel = Channel.HOTLINE, **fields: object) -> CaseReceived:
    return CaseReceived(
        event_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        occurred_at=NOW,
        channel=channel,
        received_at=NOW,
        content=content,
        **fields,  # type: ignore[arg-type]
    )


def classify(model: TopicModel, *cases: CaseReceived, **kwargs: object) -> list[CaseClassified]:
    catalogue = Catalogue(None, load_county(), "", EMPTY, "")  # the county alone, no matters
    parts = ClassifierParts(model, load_severity_rules(), catalogue, urgency_rules=load_urgency_rules())
    return classify_cases(list(cases), replace(parts, **kwargs), clock=FixedClock(NOW))  # type: ignore[arg-type]


def test_an_urgent_call_is_flagged_with_lines_and_at_least_larger_severity(model: TopicModel) -> None:
    [urgent, calm] = classify(
        model,
        received("城厢镇新华路，我家楼道里闻到一股怪味，像是煤气，我妈已经头晕了。"),
        received("城厢镇新华路的路灯坏了两个多月，晚上出行不便。"),
    )
    assert urgent.urgent and EmergencyLine.FIRE in urgent.urgent_lines and urgent.urgent_reasons
    assert urgent.severity.value in ("较大", "重大", "特别重大")
    assert not calm.urgent and calm.urgent_lines == [] and calm.severity.value == "一般"
    routed = route_case(urgent, county=load_county(), clock=FixedClock(NOW))
    assert routed.urgent and routed.urgent_lines == urgent.urgent_lines


def test_repeats_and_media_velocity_reach_severity(model: TopicModel) -> None:
    [repeat, fast] = classify(
        model,
        received("反映楼下烧烤店油烟扰民问题。", repeat_count=2),
        received("某小区垃圾长期无人清运。", channel=Channel.MEDIA, reach=500, reach_per_hour=25_000.0),
    )
    assert repeat.severity.value == "较大" and "重复投诉: 2次" in repeat.severity_reasons
    assert fast.severity.value == "重大" and "舆情传播速度: 每小时25000" in fast.severity_reasons


def test_a_case_over_its_time_budget_goes_to_manual_sorting(model: TopicModel) -> None:
    ticks = iter(float(i) for i in range(100))  # every reading of the timer is one second later
    [slow] = classify(model, received("反映楼下烧烤店油烟扰民问题。"), timer=lambda: next(ticks), budget_s=0.5)
    assert slow.needs_review and OVER_BUDGET_REASON in slow.severity_reasons


def test_a_long_text_is_classified_without_stalling_the_batch(model: TopicModel) -> None:
    long = received("1" * 20_000)
    [first, second] = classify(model, long, received("楼顶站着个人，说不想活了。"))
    assert not first.urgent and OVER_BUDGET_REASON not in first.severity_reasons  # bounded: well within budget
    assert second.urgent and EmergencyLine.AMBULANCE in second.urgent_lines


def test_suggest_returns_the_banner_fields(model: TopicModel) -> None:
    parts = ClassifierParts(model, load_severity_rules(), packaged(), urgency_rules=load_urgency_rules())
    out = suggest("我现在站在凤城大桥上，不想活了。", parts, clock=FixedClock(NOW), channel="hotline")
    assert out["urgent"] is True
    assert out["urgent_lines"] == ["110", "119", "120"]
    assert any(r.startswith("轻生") for r in out["urgent_reasons"])


def test_an_operators_handover_makes_the_case_urgent_whatever_the_text(model: TopicModel) -> None:
    # The words alone are calm (a caller's relative "is not answering the door"); the operator heard more.
    plain = "我家老人一个人住在城厢镇，打电话一直没人接，敲门也不开。"
    [by_text, handed] = classify(
        model, received(plain), received(plain, handed_over_to=[EmergencyLine.POLICE, EmergencyLine.AMBULANCE])
    )
    assert handed.urgent
    assert handed.urgent_lines[:2] == [EmergencyLine.POLICE, EmergencyLine.AMBULANCE]
    assert handed.urgent_reasons[0] == "话务员已转接：110、120"
    assert set(by_text.urgent_lines) <= set(handed.urgent_lines)


def test_a_handover_adds_its_line_to_those_the_rules_found(model: TopicModel) -> None:
    [case] = classify(model, received("楼下饭店着火了，烟很大", handed_over_to=[EmergencyLine.AMBULANCE]))
    assert case.urgent and EmergencyLine.FIRE in case.urgent_lines and EmergencyLine.AMBULANCE in case.urgent_lines
