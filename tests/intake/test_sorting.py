"""人工分拣 without a named unit routes by the 派单目录's matter dispatch, like the router does."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from hotline.natsserver import EmbeddedNats
from hotline.shared.catalogue import packaged
from hotline.shared.clock import FixedClock
from hotline.shared.dispatching import dispatch_classified, text_evidence
from hotline.shared.domain.county import route
from hotline.shared.events import CaseClassified
from tests.intake.test_api import CALL
from tests.intake.test_linkage import classified_messages, desk  # noqa: F401  (fixture)


def _of_case(messages: list[dict[str, Any]], case_id: str) -> dict[str, Any]:
    mine = [m for m in messages if m["case_id"] == case_id]
    assert mine, f"nothing published for case {case_id}"
    return mine[-1]


def test_sorting_without_a_unit_routes_by_the_matter_catalogue(
    desk: tuple[TestClient, FixedClock],  # noqa: F811
    nats_server: EmbeddedNats,
) -> None:
    client, _ = desk
    catalogue = packaged()
    # The county's old topic table sends 城乡建设 to 住建局; the catalogue's matter (市政排水) to 城管局.
    by_table = route(topic="城乡建设", subtopic=None, township=CALL["township"], county=catalogue.county)
    case_id = client.post("/api/v1/calls", json=CALL).json()["id"]
    sorted_ = client.post(f"/api/v1/cases/{case_id}/classify", json={"topic": "城乡建设"})
    assert sorted_.status_code == 200, sorted_.text
    body = sorted_.json()

    classified = CaseClassified.model_validate(_of_case(classified_messages(nats_server.url), case_id))
    routed = _of_case(classified_messages(nats_server.url, "case.v1.routed"), case_id)
    # The router's own function on the person's classification: same unit, matter, reason and version.
    decision = dispatch_classified(classified, catalogue)
    assert decision.matter_code == "sewer-blockage" and decision.unit_code != by_table.unit_code
    assert (routed["unit_code"], routed["co_units"]) == (decision.unit_code, list(decision.co_units))
    assert (routed["matter_code"], routed["matter_name"]) == (decision.matter_code, decision.matter_name)
    assert routed["reason"] == f"人工分拣 admin：{decision.reason}"
    assert routed["routing_version"] == classified.catalogue_version == catalogue.version
    assert routed["decided_by"] == classified.decided_by == "person" and routed["topic"] == "城乡建设"
    assert body["unit"] == decision.unit_code and body["matter_code"] == "sewer-blockage"


def test_sorting_a_village_case_by_hand_lets_the_township_lead_its_village_facilities(
    desk: tuple[TestClient, FixedClock],  # noqa: F811
    nats_server: EmbeddedNats,
) -> None:
    client, _ = desk
    call = {**CALL, "content": "我们村的公共厕所锁了好几个月，赶集的时候没地方上厕所。", "township": "湖头镇"}
    case_id = client.post("/api/v1/calls", json=call).json()["id"]
    sorted_ = client.post(f"/api/v1/cases/{case_id}/classify", json={"topic": "城乡建设"})
    assert sorted_.status_code == 200, sorted_.text
    classified = CaseClassified.model_validate(_of_case(classified_messages(nats_server.url), case_id))
    assert classified.rural and classified.decided_by == "person"
    assert sorted_.json()["unit"] == dispatch_classified(classified, packaged()).unit_code == "town-hutou"


def test_sorting_the_catalogue_cannot_decide_asks_for_a_unit(desk: tuple[TestClient, FixedClock]) -> None:  # noqa: F811
    client, _ = desk
    case_id = client.post("/api/v1/calls", json={**CALL, "content": "？？？……", "township": None}).json()["id"]
    refused = client.post(f"/api/v1/cases/{case_id}/classify", json={"topic": "未配置的主题"})
    assert refused.status_code == 422, refused.text
    assert "请指定承办单位" in refused.json()["message"]
    named = client.post(f"/api/v1/cases/{case_id}/classify", json={"topic": "未配置的主题", "unit": "cgj"})
    assert named.status_code == 200 and named.json()["unit"] == "cgj"


def test_evidence_of_the_classifier_is_kept_only_for_the_catalogue_in_force() -> None:
    catalogue = packaged()
    own = {"decided_by": "system", "catalogue_version": catalogue.version, "matters": [{"code": "x", "score": 1.0}]}
    matters, _ = text_evidence(CALL["content"], catalogue, is_accusation=False, classified=[own])
    assert [m.code for m in matters] == ["x"]
    older = {**own, "catalogue_version": 7}
    person = {**own, "decided_by": "person"}
    for payloads in ([older], [], [older, person]):
        matters, misconduct = text_evidence(CALL["content"], catalogue, is_accusation=False, classified=payloads)
        assert matters and matters[0].code == "sewer-blockage" and misconduct == []
