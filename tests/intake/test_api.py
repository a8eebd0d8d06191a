"""The intake API against a real nats-server and database (no other service running)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import nats
import pytest
from fastapi.testclient import TestClient

from hotline.natsserver import EmbeddedNats
from hotline.services.intake.accounts import ensure_admin
from hotline.services.intake.app import create_app
from hotline.shared.settings import Settings

CALL = {"phone": "13859612345", "content": "村道排水沟堵塞，请尽快疏通。", "outcome": "transfer", "township": "城厢镇"}


ADMIN_PASSWORD = "intake-test-admin"


@pytest.fixture
def anonymous(nats_server: EmbeddedNats, database_url: str) -> Iterator[TestClient]:
    ensure_admin(database_url, password=ADMIN_PASSWORD)
    settings = Settings(NATS_URL=nats_server.url, DATABASE_URL=database_url)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def login(client: TestClient, username: str, password: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def client(anonymous: TestClient) -> TestClient:
    """Logged in as the admin."""
    anonymous.headers.update(login(anonymous, "admin", ADMIN_PASSWORD))
    return anonymous


def received_messages(url: str, expected: int = 1) -> list[dict[str, object]]:
    """The `received` events published so far: read until at least `expected` came and then half a
    second passed without more (the relay publishes on its own schedule, and a busy machine may leave a
    gap between events; what came twice is there twice)."""

    async def read() -> list[dict[str, object]]:
        nc = await nats.connect(url)
        js = nc.jetstream()
        sub = await js.pull_subscribe("case.v1.received", durable=None)
        out: list[dict[str, object]] = []
        for _ in range(40):
            try:
                msgs = await sub.fetch(batch=10, timeout=0.5)
            except TimeoutError:
                if len(out) >= expected:
                    break
                continue
            out.extend(json.loads(m.data) for m in msgs)
        await nc.close()
        return out

    return asyncio.run(read())


def test_a_call_is_stored_and_published_once(client: TestClient, nats_server: EmbeddedNats) -> None:
    response = client.post("/api/v1/calls", json=CALL)
    assert response.status_code == 201, response.text
    created = response.json()
    assert len(created["query_code"]) == 8
    case = client.get(f"/api/v1/cases/{created['id']}").json()
    assert case["channel"] == "hotline"
    assert case["phone"] == "138****2345"  # masked
    messages = received_messages(nats_server.url)
    assert [m["case_id"] for m in messages] == [created["id"]]
    assert messages[0]["content"] == CALL["content"]
    assert "phone" not in messages[0]  # personal data stays in the database


def test_call_answered_on_the_spot_is_closed_at_once(client: TestClient) -> None:
    response = client.post("/api/v1/calls", json={**CALL, "outcome": "answered_on_spot"})
    case = client.get(f"/api/v1/cases/{response.json()['id']}").json()
    assert case["status"] == "answered"
    assert case["answered_at"] == case["received_at"]


@pytest.mark.parametrize(
    ("path", "body", "field", "words"),
    [
        ("/api/v1/calls", {**CALL, "phone": "12"}, "phone", "电话"),
        ("/api/v1/calls", {**CALL, "outcome": "later"}, "outcome", "answered_on_spot"),
        ("/api/v1/calls", {k: v for k, v in CALL.items() if k != "content"}, "content", "必填"),
        ("/api/v1/calls", {**CALL, "content": "   "}, "content", "不能为空"),
        ("/api/v1/petitions", {"form": "pigeon", "petitioner_name": "张三", "content": "x"}, "form", "来信"),
        (
            "/api/v1/mentions",
            {"url": "not a url", "platform": "weibo", "outlet": "微博", "content": "x", "published_at": "2026-11-24"},
            "url",
            "网址",
        ),
        ("/api/v1/calls", {**CALL, "received_at": "2099-01-01T00:00:00+08:00"}, "received_at", "不能晚于"),
    ],
)
def test_invalid_input_gets_422_naming_the_field_in_chinese(
    client: TestClient, path: str, body: dict[str, object], field: str, words: str
) -> None:
    response = client.post(path, json=body)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert any(item["field"] == field and words in item["message"] for item in detail), detail


def test_malformed_json_is_a_clear_422(client: TestClient) -> None:
    response = client.post("/api/v1/calls", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "JSON" in response.json()["message"]


def test_unknown_case_is_404_and_bad_id_is_422(client: TestClient) -> None:
    assert client.get("/api/v1/cases/8b0c0f36-7c53-4a43-a38d-2f5b2f3c9e55").status_code == 404
    assert client.get("/api/v1/cases/abc").status_code == 422


def test_health_names_the_services_that_are_down(client: TestClient) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"]["ok"] and body["checks"]["nats"]["ok"]
    assert set(body["down"]) == {"classifier", "router", "escalation", "feed"}
    reconciler = body["checks"]["reconciler"]
    assert reconciler["ok"] and reconciler["redriven"] == 0 and reconciler["grace_s"] > 0


def test_live_feed_page_serves_every_asset_locally(anonymous: TestClient) -> None:
    client = anonymous
    page = client.get("/")
    assert page.status_code == 200 and "实时事件" in page.text
    for asset in ("/static/feed.js", "/static/feed.css"):
        response = client.get(asset)
        assert response.status_code == 200
        assert "http://" not in response.text and "https://" not in response.text
    assert "https://" not in page.text and "http://" not in page.text


def test_a_repeat_call_is_linked_to_the_open_case_not_opened_anew(client: TestClient) -> None:
    first = client.post("/api/v1/calls", json=CALL).json()
    again = client.post("/api/v1/calls", json={**CALL, "content": "上次反映的排水沟还没人来疏通，再次反映。"})
    assert again.status_code == 201
    assert again.json()["repeat_of"] == first["id"] and again.json()["repeat_count"] == 1
    # Another caller, the same matter in near-identical words, the same township: also a repeat.
    neighbour = client.post(
        "/api/v1/calls", json={**CALL, "phone": "13900001111", "content": "村道排水沟堵塞，请尽快疏通！"}
    )
    assert neighbour.json().get("repeat_of") == first["id"]
    case = client.get(f"/api/v1/cases/{first['id']}").json()
    assert case["repeat_count"] == 2
    # A different township is a different matter.
    elsewhere = client.post("/api/v1/calls", json={**CALL, "phone": "13900002222", "township": "湖头镇"}).json()
    assert "repeat_of" not in elsewhere and elsewhere["id"] != first["id"]


def test_login_locks_out_after_repeated_failures(anonymous: TestClient) -> None:
    for _ in range(5):
        wrong = anonymous.post("/api/v1/auth/token", json={"username": "admin", "password": "guess"})
        assert wrong.status_code == 401
    locked = anonymous.post("/api/v1/auth/token", json={"username": "admin", "password": ADMIN_PASSWORD})
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    body = locked.json()
    assert "秒后再试" in str(body.get("message") or body.get("detail"))


def test_operator_finds_only_own_cases_among_similar(client: TestClient) -> None:
    client.post("/api/v1/users", json={"username": "op-a", "password": "op-a-pass-1", "role": "operator"})
    client.post("/api/v1/users", json={"username": "op-b", "password": "op-b-pass-1", "role": "operator"})
    as_a = login(client, "op-a", "op-a-pass-1")
    as_b = login(client, "op-b", "op-b-pass-1")
    created = client.post("/api/v1/calls", json=CALL, headers=as_a)
    assert created.status_code == 201, created.text
    query = {"text": CALL["content"]}
    mine = client.get("/api/v1/cases/similar", params=query, headers=as_a).json()["items"]
    theirs = client.get("/api/v1/cases/similar", params=query, headers=as_b).json()["items"]
    assert [item["id"] for item in mine] == [created.json()["id"]]
    assert theirs == []


def test_api_docs_are_served_offline(anonymous: TestClient) -> None:
    page = anonymous.get("/api/docs")
    assert page.status_code == 200
    assert "/api/docs/assets/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    assert anonymous.get("/api/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert anonymous.get("/api/docs/assets/swagger-ui.css").status_code == 200
    assert anonymous.get("/redoc").status_code == 404  # FastAPI's ReDoc page would load from a CDN


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("[1, 2]", "请求体应为 JSON 对象"),
        ("not json", "请求体不是有效的 JSON"),
        ('"text"', "请求体应为 JSON 对象"),
    ],
)
def test_bodies_that_are_not_objects_get_chinese_messages(client: TestClient, body: str, expected: str) -> None:
    response = client.post("/api/v1/calls", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["message"].startswith(expected)
    assert not any(word in response.json()["message"] for word in ("Input", "should", "valid", "0（0）"))


def test_another_matter_from_the_same_phone_is_a_new_case_linked_to_the_first(client: TestClient) -> None:
    """Reported: a street-light call became a "repeat" of the same caller's blocked drain and got no task."""
    drain = client.post("/api/v1/calls", json=CALL).json()
    light = client.post(
        "/api/v1/calls", json={**CALL, "content": "城厢镇经兜村村道旁的路灯坏了两个多月，晚上很不安全，请尽快维修。"}
    ).json()
    assert "repeat_of" not in light and light["id"] != drain["id"]
    assert light["same_caller"] == [{"id": drain["id"], "query_code": drain["query_code"]}]
    case = client.get(f"/api/v1/cases/{light['id']}").json()
    assert [c["id"] for c in case["same_caller"]] == [drain["id"]] and case["repeat_count"] == 0
    assert [c["id"] for c in client.get(f"/api/v1/cases/{drain['id']}").json()["same_caller"]] == [light["id"]]
