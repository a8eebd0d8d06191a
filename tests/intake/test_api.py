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


def received_messages(url: str) -> list[dict[str, object]]:
    async def read() -> list[dict[str, object]]:
        nc = await nats.connect(url)
        js = nc.jetstream()
        sub = await js.pull_subscribe("case.v1.received", durable=None)
        out: list[dict[str, object]] = []
        for _ in range(20):
            try:
                msgs = await sub.fetch(batch=10, timeout=0.5)
            except TimeoutError:
                if out:
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


def test_hostile_queries_get_422_with_a_chinese_message(client: TestClient) -> None:
    for path in (
        "/api/v1/cases?offset=100000000000000000000000",
        "/api/v1/stats?from=1900-01-01",
        "/api/v1/stats?to=9999-12-31",
        "/api/v1/reports/period?from=0001-01-01",
    ):
        response = client.get(path)
        assert response.status_code == 422, (path, response.text)
        assert "范围" in response.json()["message"] or "整数" in response.json()["message"], response.text
    response = client.post("/api/v1/calls", json={**CALL, "received_at": "1970-01-01T00:00:00+00:00"})
    assert response.status_code == 422 and "2000" in response.json()["message"]
    response = client.post("/api/v1/calls", json={**CALL, "content": "路灯\u0000坏了"})
    assert response.status_code == 201, response.text
    assert client.get(f"/api/v1/cases/{response.json()['id']}").json()["content"] == "路灯坏了"
