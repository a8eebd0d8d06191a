"""联动 at the front door: 转接 records (rules and API), and the reach velocity of a media report seen again."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import nats
import pytest
from fastapi.testclient import TestClient

from hotline.natsserver import EmbeddedNats
from hotline.services.intake.accounts import ensure_admin
from hotline.services.intake.app import create_app
from hotline.services.intake.linkage import HandoverRefused, handover_routes_now, reach_per_hour, record_handover
from hotline.services.intake.sorting import kept_urgency
from hotline.shared.clock import FixedClock
from hotline.shared.db import CaseRow
from hotline.shared.dispatching import URGENT_ON_SPOT_NOTE
from hotline.shared.events import Channel, EmergencyLine
from hotline.shared.settings import Settings
from tests.intake.test_api import ADMIN_PASSWORD, CALL, login, received_messages

T0 = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


def case_row(status: str = "received") -> CaseRow:
    return CaseRow(id=uuid.uuid4(), channel="hotline", status=status, received_at=T0, handovers=[], urgent=False)


def test_a_handover_is_recorded_once_per_line_and_marks_the_case_urgent() -> None:
    case = case_row()
    event = record_handover(case, EmergencyLine.AMBULANCE, actor="op1", role="operator", now=T0, note="已拨120")
    assert event is not None and event.line is EmergencyLine.AMBULANCE and event.actor == "op1"
    assert event.channel is Channel.HOTLINE and event.occurred_at == T0
    assert case.handovers == [
        {"line": "120", "at": "2026-11-24T09:00:00+08:00", "by": "op1", "role": "operator", "note": "已拨120"}
    ]
    assert case.urgent and case.urgent_lines == ["120"] and "120 急救" in case.urgent_reasons[0]
    # The same line again (a double click, a retried request): nothing new, the same event id.
    assert record_handover(case, EmergencyLine.AMBULANCE, actor="op2", role="operator", now=T0) is None
    second = record_handover(case, EmergencyLine.POLICE, actor="op1", role="operator", now=T0 + timedelta(minutes=1))
    assert second is not None and second.event_id != event.event_id
    assert [h["line"] for h in case.handovers] == ["120", "110"] and case.urgent_lines == ["120", "110"]


def test_a_closed_case_takes_no_handover() -> None:
    with pytest.raises(HandoverRefused) as refused:
        record_handover(case_row("closed"), EmergencyLine.FIRE, actor="op1", role="operator", now=T0)
    assert refused.value.status == 409 and "已办结" in refused.value.message


@pytest.mark.parametrize(
    ("earlier", "later", "hours", "expected"),
    [(1000, 7000, 2, 3000.0), (1000, 800, 1, 0.0), (None, 5000, 1, None), (1000, 5000, 0, None)],
)
def test_reach_per_hour(earlier: int | None, later: int | None, hours: float, expected: float | None) -> None:
    assert reach_per_hour(earlier, T0, later, T0 + timedelta(hours=hours)) == expected


@pytest.fixture
def desk(nats_server: EmbeddedNats, database_url: str) -> Iterator[tuple[TestClient, FixedClock]]:
    ensure_admin(database_url, password=ADMIN_PASSWORD)
    clock = FixedClock(datetime.now(UTC))
    settings = Settings(NATS_URL=nats_server.url, DATABASE_URL=database_url)
    with TestClient(create_app(settings, clock=clock)) as client:
        client.headers.update(login(client, "admin", ADMIN_PASSWORD))
        yield client, clock


def test_handover_endpoint_records_who_which_line_and_when(desk: tuple[TestClient, FixedClock]) -> None:
    client, _ = desk
    case_id = client.post("/api/v1/calls", json=CALL).json()["id"]
    recorded = client.post(f"/api/v1/cases/{case_id}/handover", json={"line": "119", "note": "三方通话"})
    assert recorded.status_code == 200, recorded.text
    body = recorded.json()
    assert body["handover"]["line"] == "119" and body["handover"]["by"] == "admin" and not body["already_recorded"]
    again = client.post(f"/api/v1/cases/{case_id}/handover", json={"line": "119"}).json()
    assert again["already_recorded"] and again["handover"] == body["handover"]
    case = client.get(f"/api/v1/cases/{case_id}").json()
    assert case["urgent"] and case["urgent_lines"] == ["119"] and len(case["handovers"]) == 1
    listed = client.get("/api/v1/cases", params={"urgent": "true", "open": "true"}).json()["items"]
    assert [c["id"] for c in listed] == [case_id]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"line": "911"}, 422, "110（报警）"),
        ({}, 422, "转接线路（line）为必填项"),
        ({"line": "110", "note": "x" * 501}, 422, "备注"),
        ({"line": "110", "who": "me"}, 422, "不是可接受的字段"),
    ],
)
def test_bad_handovers_get_a_chinese_4xx(
    desk: tuple[TestClient, FixedClock], body: dict[str, object], status: int, words: str
) -> None:
    client, _ = desk
    case_id = client.post("/api/v1/calls", json=CALL).json()["id"]
    response = client.post(f"/api/v1/cases/{case_id}/handover", json=body)
    assert response.status_code == status and words in response.json()["message"], response.text


def test_handover_to_an_unknown_case_is_404(desk: tuple[TestClient, FixedClock]) -> None:
    client, _ = desk
    response = client.post(f"/api/v1/cases/{uuid.uuid4()}/handover", json={"line": "110"})
    assert response.status_code == 404 and response.json()["detail"] == "案件不存在"


def test_only_a_handover_on_a_call_closed_on_the_spot_and_never_routed_routes_it_now() -> None:
    assert handover_routes_now("answered", "answered_on_spot", None)
    assert not handover_routes_now("answered", "answered_on_spot", "cgj")  # already routed
    assert not handover_routes_now("received", "transfer", None)  # the pipeline routes it
    assert not handover_routes_now("answered", "transfer", "cgj")  # a unit's 答复


def routed_messages(url: str) -> list[dict[str, object]]:
    async def read() -> list[dict[str, object]]:
        nc = await nats.connect(url)
        sub = await nc.jetstream().pull_subscribe("case.v1.routed", durable=None)
        try:
            msgs = await sub.fetch(batch=10, timeout=5)
        except TimeoutError:
            msgs = []
        await nc.close()
        return [json.loads(m.data) for m in msgs]

    return asyncio.run(read())


def test_a_handover_after_an_on_the_spot_answer_routes_the_case(
    desk: tuple[TestClient, FixedClock], nats_server: EmbeddedNats
) -> None:
    client, _ = desk
    case_id = client.post("/api/v1/calls", json={**CALL, "outcome": "answered_on_spot"}).json()["id"]
    assert client.post(f"/api/v1/cases/{case_id}/handover", json={"line": "120"}).status_code == 200
    routed = wait_for_routed(nats_server.url, case_id)
    assert routed["urgent"] and routed["urgent_lines"] == ["120"] and routed["decided_by"] == "person"
    assert str(routed["reason"]).endswith(URGENT_ON_SPOT_NOTE) and routed["unit_code"]


def wait_for_routed(url: str, case_id: str) -> dict[str, object]:
    found = [m for m in routed_messages(url) if m["case_id"] == case_id]
    assert found, "no case.v1.routed for the case"
    return found[0]


def test_a_call_saved_with_its_handover_carries_it(desk: tuple[TestClient, FixedClock]) -> None:
    client, _ = desk
    created = client.post("/api/v1/calls", json={**CALL, "handover_line": "120"})
    assert created.status_code == 201, created.text
    case = client.get(f"/api/v1/cases/{created.json()['id']}").json()
    assert [h["line"] for h in case["handovers"]] == ["120"] and case["handovers"][0]["by"] == "admin"
    bad = client.post("/api/v1/calls", json={**CALL, "phone": "13900009999", "handover_line": "999"})
    assert bad.status_code == 422 and "转接线路" in bad.json()["message"]


def test_a_mention_reported_again_carries_its_reach_velocity(
    desk: tuple[TestClient, FixedClock], nats_server: EmbeddedNats
) -> None:
    client, clock = desk
    mention = {
        "url": "https://weibo.com/1234/abcd",
        "platform": "weibo",
        "outlet": "微博",
        "content": "城厢镇一小区地下车库进水，多辆车被淹。",
        "published_at": clock.now().isoformat(),
        "reach": 1000,
    }
    first = client.post("/api/v1/mentions", json=mention).json()
    clock.advance(timedelta(hours=2))
    second = client.post("/api/v1/mentions", json={**mention, "reach": 7000}).json()
    other = client.post("/api/v1/mentions", json={**mention, "url": "https://weibo.com/1234/other"}).json()
    events = {m["case_id"]: m for m in received_messages(nats_server.url, expected=3)}
    assert events[first["id"]]["reach_per_hour"] is None and events[first["id"]]["repeat_count"] == 0
    assert events[second["id"]]["reach_per_hour"] == 3000.0 and events[second["id"]]["repeat_count"] == 1
    assert events[other["id"]]["reach_per_hour"] is None
    details = client.get(f"/api/v1/cases/{second['id']}").json()["details"]
    assert details["earlier_report"] == first["id"] and details["reach_per_hour"] == 3000.0


def classified_messages(url: str, subject: str = "case.v1.classified") -> list[dict[str, object]]:
    async def read() -> list[dict[str, object]]:
        nc = await nats.connect(url)
        sub = await nc.jetstream().pull_subscribe(subject, durable=None)
        out: list[dict[str, object]] = []
        for _ in range(40):  # generous: the outbox relay publishes on its own schedule
            try:
                out.extend(json.loads(m.data) for m in await sub.fetch(batch=10, timeout=0.5))
            except TimeoutError:
                if out:
                    break
        await nc.close()
        return out

    return asyncio.run(read())


def test_kept_urgency_carries_the_cases_verdict() -> None:
    case = case_row()
    case.urgent, case.urgent_reasons, case.urgent_lines = True, ["火灾：着火"], ["119"]
    assert kept_urgency(case) == {
        "urgent": True,
        "urgent_reasons": ["火灾：着火"],
        "urgent_lines": [EmergencyLine.FIRE],
    }
    assert kept_urgency(case_row())["urgent"] is False


def test_sorting_by_hand_keeps_the_case_urgent(desk: tuple[TestClient, FixedClock], nats_server: EmbeddedNats) -> None:
    client, _ = desk
    case_id = client.post("/api/v1/calls", json={**CALL, "handover_line": "119"}).json()["id"]
    sorted_ = client.post(f"/api/v1/cases/{case_id}/classify", json={"topic": "城乡建设", "subtopic": "市政服务"})
    assert sorted_.status_code == 200, sorted_.text
    manual = [m for m in classified_messages(nats_server.url) if m["case_id"] == case_id]
    assert manual, "the manual classification was not published"
    assert manual[-1]["urgent"] is True and manual[-1]["urgent_lines"] == ["119"]
    assert manual[-1]["urgent_reasons"], "the reasons of the 转接 are kept"


def test_a_handover_logged_with_the_call_travels_on_the_received_event() -> None:
    from hotline.services.intake.cases import case_from_call
    from hotline.services.intake.schemas import CallIn
    from hotline.shared.clock import FixedClock
    from hotline.shared.events import EmergencyLine

    body = CallIn(phone="13859612345", content="老人在家不开门，电话也不接。", outcome="transfer", handover_line="110")
    _, event = case_from_call(body, FixedClock(datetime(2026, 11, 24, 2, 0, tzinfo=UTC)))
    assert event.handed_over_to == [EmergencyLine.POLICE]
    _, calm = case_from_call(
        body.model_copy(update={"handover_line": None}), FixedClock(datetime(2026, 11, 24, tzinfo=UTC))
    )
    assert calm.handed_over_to == []
