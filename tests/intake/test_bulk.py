"""Bulk intake (POST /api/v1/cases/bulk): per-item results, client keys, the same events as one by one."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from hotline.natsserver import EmbeddedNats
from tests.intake.test_api import CALL, anonymous, client, received_messages  # noqa: F401  (fixtures)

MENTION = {
    "url": "https://weibo.com/1/abc",
    "platform": "weibo",
    "outlet": "微博",
    "content": "网友称县城老街排水沟堵塞多日，污水漫上路面。",
    "published_at": "2026-11-24T09:00:00+08:00",
    "reach": 1200,
}


def bulk(api: TestClient, items: list[dict[str, Any]]) -> dict[str, Any]:
    response = api.post("/api/v1/cases/bulk", json={"items": items})
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_each_item_is_answered_in_place_and_makes_the_same_events(
    client: TestClient,  # noqa: F811
    nats_server: EmbeddedNats,
) -> None:
    answer = bulk(
        client,
        [
            {"key": "feed:weibo:1", "kind": "mention", "body": MENTION},
            {"key": "feed:weibo:2", "kind": "mention", "body": {**MENTION, "url": "not a url"}},
            {"key": "migr:1", "kind": "call", "body": CALL},
            {"key": "migr:2", "kind": "fax", "body": CALL},
            {"kind": "call", "body": CALL},
        ],
    )
    items = answer["items"]
    assert [i["outcome"] for i in items] == ["created", "invalid", "created", "invalid", "invalid"]
    assert [i["index"] for i in items] == [0, 1, 2, 3, 4]
    assert items[1]["key"] == "feed:weibo:2"
    assert items[1]["errors"][0]["field"] == "body.url" and "网址" in items[1]["errors"][0]["message"]
    assert items[3]["errors"][0]["field"] == "kind"
    assert items[4]["key"] is None and items[4]["errors"][0]["field"] == "key"
    assert "必填" in items[4]["errors"][0]["message"]
    assert (answer["created"], answer["repeats"], answer["duplicates"], answer["invalid"]) == (2, 0, 0, 3)
    # The cases are real cases and their `received` events went out as from the single endpoints.
    case = client.get(f"/api/v1/cases/{items[0]['id']}").json()
    assert case["channel"] == "media"
    published = {m["case_id"] for m in received_messages(nats_server.url, expected=2)}
    assert published == {items[0]["id"], items[2]["id"]}


def test_a_key_sent_again_answers_with_its_first_case(client: TestClient) -> None:  # noqa: F811
    first = bulk(client, [{"key": "migr:7", "kind": "call", "body": CALL}])["items"][0]
    again = bulk(
        client,
        [
            {"key": "migr:7", "kind": "call", "body": CALL},
            {"key": "migr:8", "kind": "mention", "body": MENTION},
            {"key": "migr:8", "kind": "mention", "body": MENTION},
        ],
    )
    assert again["items"][0] == {**first, "outcome": "duplicate"}
    assert [i["outcome"] for i in again["items"]] == ["duplicate", "created", "duplicate"]
    assert again["items"][2]["id"] == again["items"][1]["id"]
    # Not a 重复来电: the resent call did not count as the caller calling again.
    assert client.get(f"/api/v1/cases/{first['id']}").json()["repeat_count"] == 0


def test_a_repeat_in_a_bulk_is_linked_like_a_repeated_call(client: TestClient) -> None:  # noqa: F811
    answer = bulk(
        client,
        [
            {"key": "m:1", "kind": "call", "body": CALL},
            {"key": "m:2", "kind": "call", "body": {**CALL, "content": "村道排水沟还是堵塞，一直没人来疏通。"}},
        ],
    )
    first, second = answer["items"]
    assert (first["outcome"], second["outcome"]) == ("created", "repeat")
    assert second["repeat_of"] == first["id"] == second["id"]


def test_bulk_needs_a_staff_login_and_a_bounded_list(anonymous: TestClient, client: TestClient) -> None:  # noqa: F811
    item = {"key": "k", "kind": "call", "body": CALL}
    assert (
        anonymous.post("/api/v1/cases/bulk", json={"items": [item]}, headers={"Authorization": ""}).status_code == 401
    )
    too_many = client.post("/api/v1/cases/bulk", json={"items": [item] * 501})
    assert too_many.status_code == 422 and too_many.json()["detail"][0]["field"] == "items"
    empty = client.post("/api/v1/cases/bulk", json={"items": []})
    assert empty.status_code == 422
