"""The whole flow, by HTTP, through every real service process."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from hotline.supervisor import Supervisor
from tests.e2e.conftest import SystemFactory, client_for, wait_until

CALL = {
    "phone": "13859612345",
    "caller_name": "林先生",
    "township": "城厢镇",
    "outcome": "transfer",
    "content": "城厢镇经兜村村道旁的路灯坏了两个多月，晚上一片漆黑，老人孩子出行很不安全，请尽快维修。",
}
PETITION = {
    "form": "letter",
    "petitioner_name": "黄某",
    "content": "反映县城某小区开发商延期交房一年多，业主多次协商无果，要求住建部门督促开发商尽快交房。",
}
MENTION = {
    "url": "https://weibo.example.cn/status/4990001",
    "platform": "weibo",
    "outlet": "微博网友",
    "title": "龙门镇工业区偷排废水",
    "content": "龙门镇工业区有企业夜间偷排废水，下游溪水发黑发臭，死鱼漂了一河。",
    "reach": 56000,
    "published_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
}


def routed_case(client: httpx.Client, case_id: str) -> dict[str, Any] | None:
    case: dict[str, Any] = client.get(f"/api/v1/cases/{case_id}").json()
    tracked = any(event["kind"] == "tracked" for event in case["history"])
    return case if case["deadlines"] and case["unit"] and tracked else None


def test_one_case_of_each_channel_is_classified_routed_and_tracked(shared_system: Supervisor) -> None:
    system = shared_system
    with client_for(system) as client:
        before = client.get("/api/v1/stats").json()["overall"]  # the module's other cases count too
        ids = {}
        for path, body in (("calls", CALL), ("petitions", PETITION), ("mentions", MENTION)):
            response = client.post(f"/api/v1/{path}", json=body)
            assert response.status_code == 201, response.text
            ids[path] = response.json()["id"]

        for path, case_id in ids.items():
            case = wait_until(lambda case_id=case_id: routed_case(client, case_id), what=f"{path} routed")
            assert case["topic"] and case["severity"] in ("一般", "较大", "重大", "特别重大")
            clocks = {d["name"]: d for d in case["deadlines"]}
            received = datetime.fromisoformat(case["received_at"])
            # 信访: 15 日 to register and notify (start day not counted, ends 24:00, holidays skipped).
            # The response clock follows the case's urgency (1 hour for a 紧急诉求, else 48 hours); whether
            # a text is urgent is judged by the urgency suites, not here.
            respond = timedelta(hours=1) if case["urgent"] else timedelta(hours=48)
            first, least = ("accept", timedelta(days=15)) if path == "petitions" else ("respond", respond)
            due = datetime.fromisoformat(clocks[first]["due_at"]) - received
            assert due == least if path != "petitions" else least <= due <= least + timedelta(days=5)
            kinds = [event["kind"] for event in case["history"]]
            assert kinds[:1] == ["received"] and {"classified", "routed", "tracked"} <= set(kinds)

        assert client.get("/api/v1/health").status_code == 200
        stats = client.get("/api/v1/stats").json()
        overall = stats["overall"]
        assert (overall["received"], overall["transferred"]) == (before["received"] + 3, before["transferred"] + 3)
        assert set(stats["by_channel"]) == {"hotline", "petition", "media"}

        # The live feed replays from the start and names every stage of every case.
        seen: dict[str, set[str]] = {}
        with client.stream("GET", "/api/v1/feed", params={"since": 0}) as stream:
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    item = json.loads(line[6:])
                    if item["case_id"] in ids.values():  # not the other tests' cases
                        seen.setdefault(item["case_id"], set()).add(item["kind"])
                    if len(seen) == 3 and all(
                        {"received", "classified", "routed", "tracked"} <= k for k in seen.values()
                    ):
                        break
        assert set(seen) == set(ids.values())
        assert all({"received", "classified", "routed", "tracked"} <= kinds for kinds in seen.values())


def test_answered_on_the_spot_calls_are_classified_but_not_routed(shared_system: Supervisor) -> None:
    system = shared_system
    with client_for(system) as client:
        case_id = client.post("/api/v1/calls", json={**CALL, "outcome": "answered_on_spot"}).json()["id"]
        case = wait_until(
            lambda: (c := client.get(f"/api/v1/cases/{case_id}").json())["topic"] and c, what="classified"
        )
        assert case["status"] == "answered" and case["unit"] is None and case["deadlines"] == []


def test_scaled_clock_escalates_a_48_hour_deadline_in_seconds(start_system: SystemFactory) -> None:
    # One real second counts as a day: 提醒 at 36 h, 催办 at 43.2 h, 超期 at 48 h of case time.
    system = start_system(HOTLINE_TIME_SCALE="86400", HOTLINE_ESCALATION_SCAN="0.2")
    with client_for(system) as client:
        case_id = client.post("/api/v1/calls", json=CALL).json()["id"]

        def respond_steps(case: dict[str, Any]) -> list[str]:
            history = case["history"]
            return [
                e["event"]["step"] for e in history if e["kind"] == "escalated" and e["event"]["deadline"] == "respond"
            ]

        def overdue() -> dict[str, Any] | None:
            case: dict[str, Any] = client.get(f"/api/v1/cases/{case_id}").json()
            return case if len(respond_steps(case)) >= 3 else None

        case = wait_until(overdue, timeout_s=30, what="the response clock to run out")
        assert respond_steps(case) == ["提醒", "催办", "超期"]
        assert case["status"] == "overdue"
        assert next(d for d in case["deadlines"] if d["name"] == "respond")["state"] == "overdue"
        stats = client.get("/api/v1/stats").json()["overall"]
        assert stats["overdue"] == 1 and stats["due"] == 1 and stats["response_rate"] == 0.0
