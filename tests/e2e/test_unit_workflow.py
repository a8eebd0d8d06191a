"""A unit's day through the real system: roles, isolation, 签收 → 答复 → 回访, 退回 → 改派."""

from __future__ import annotations

from typing import Any

import httpx

from hotline.supervisor import Supervisor
from tests.e2e.conftest import client_for, wait_until
from tests.e2e.test_pipeline import CALL, PETITION, routed_case

PASSWORD = "unit-pass-123"


def add_user(admin: httpx.Client, username: str, role: str, unit: str | None = None) -> None:
    response = admin.post(
        "/api/v1/users", json={"username": username, "password": PASSWORD, "role": role, "unit": unit}
    )
    assert response.status_code == 201, response.text


def other_unit(admin: httpx.Client, unit: str) -> str:
    return next(u["code"] for u in admin.get("/api/v1/units").json()["items"] if u["code"] != unit)


def respond_clock(case: dict[str, Any]) -> dict[str, Any]:
    return next(d for d in case["deadlines"] if d["name"] == "respond")


def task_of(client: httpx.Client, case_id: str) -> dict[str, Any] | None:
    items = client.get("/api/v1/tasks").json()["items"]
    return next((t for t in items if t["case_id"] == case_id and t["role"] == "lead"), None)


def test_a_unit_signs_and_answers_its_task_and_no_other_unit_sees_it(shared_system: Supervisor) -> None:
    system = shared_system
    with client_for(system) as admin:
        before = admin.get("/api/v1/stats").json()["overall"]  # the module's other cases count too
        case_id = admin.post("/api/v1/calls", json=CALL).json()["id"]
        unit = wait_until(lambda: routed_case(admin, case_id), what="routing")["unit"]
        stranger_unit = other_unit(admin, unit)
        add_user(admin, "staff", "unit", unit)
        add_user(admin, "stranger", "unit", stranger_unit)
        add_user(admin, "operator1", "operator")

    with client_for(system, username="stranger", password=PASSWORD) as stranger:
        assert stranger.get(f"/api/v1/cases/{case_id}").status_code == 404
        assert task_of(stranger, case_id) is None
        assert stranger.get("/api/v1/stats").status_code == 403

    with client_for(system, username="staff", password=PASSWORD) as staff:
        task = wait_until(lambda: task_of(staff, case_id), what="the task in the unit's inbox")
        assert task["state"] == "pending"
        case = staff.get(f"/api/v1/cases/{case_id}").json()
        assert case["phone"] == "138****2345" and case["unit"] == unit

        with client_for(system, username="stranger", password=PASSWORD) as stranger:
            assert stranger.post(f"/api/v1/tasks/{task['id']}/sign").status_code == 404

        assert staff.post(f"/api/v1/tasks/{task['id']}/answer", json={"answer": "x"}).status_code == 409
        assert staff.post(f"/api/v1/tasks/{task['id']}/sign").json()["state"] == "signed"
        answered = staff.post(
            f"/api/v1/tasks/{task['id']}/answer",
            json={"answer": "已安排施工队于本周内更换路灯。", "public_answer": "路灯已安排本周内维修。"},
        )
        assert answered.status_code == 200 and answered.json()["state"] == "answered"

        def settled() -> dict[str, Any] | None:
            c: dict[str, Any] = staff.get(f"/api/v1/cases/{case_id}").json()
            return c if c["status"] == "answered" and respond_clock(c)["state"] == "met" else None

        case = wait_until(settled, what="the answer to reach the case and its clock")
        steps = [(e["kind"], e["event"].get("actor")) for e in case["history"] if e["kind"] in ("signed", "answered")]
        assert steps == [("signed", "staff"), ("answered", "staff")]

    with httpx.Client(base_url=system.url) as public:
        found = public.get(f"/api/v1/lookup/{case['query_code']}").json()
        assert found["status"] == "已答复" and found["answer"] == "路灯已安排本周内维修。"
        assert "phone" not in found and "content" not in found

    with client_for(system) as admin:
        denied = [e for e in admin.get("/api/v1/access-log").json()["items"] if e["action"] == "denied"]
        assert {e["username"] for e in denied} >= {"stranger"}
        assert any(case_id in e["target"] for e in denied)
        assert any(e["target"] == f"task {task['id']}" for e in denied)  # the stranger's attempt to sign
        stats = admin.get("/api/v1/stats").json()["overall"]
        assert (stats["answered"], stats["due"]) == (before["answered"] + 1, before["due"] + 1)
        assert stats["response_rate"] == 100.0  # no clock of this module's cases runs out
        # 回访: 不满意 sends it back to the unit and reopens the clock.
        revisit = admin.post(f"/api/v1/cases/{case_id}/visit", json={"verdict": "不满意", "note": "路灯仍未修好"})
        assert revisit.status_code == 200 and revisit.json()["state"] == "signed"
        reopened = wait_until(
            lambda: (
                (c := admin.get(f"/api/v1/cases/{case_id}").json())["status"] == "signed"
                and respond_clock(c)["state"] == "open"
                and c
            ),
            what="the case to be reopened",
        )
        assert reopened["answered_at"] is None
        # 重办: answered again, then 办结; every clock is met.
        task_id = revisit.json()["id"]
        assert admin.post(f"/api/v1/tasks/{task_id}/answer", json={"answer": "已更换路灯。"}).status_code == 200
        closed = admin.post(f"/api/v1/tasks/{task_id}/close", json={"note": "群众确认已修好"})
        assert closed.status_code == 200 and closed.json()["state"] == "closed"
        # The feed projects the status and the escalation service the clocks, each committing apart:
        # wait for both on one read.
        wait_until(
            lambda: (
                (c := admin.get(f"/api/v1/cases/{case_id}").json())["status"] == "closed"
                and {d["state"] for d in c["deadlines"]} == {"met"}
            ),
            what="the case to be closed with every clock met",
        )


def returned_on_card(client: httpx.Client, unit: str) -> int:
    items = client.get("/api/v1/stats/dispatch-accuracy").json()["items"]
    return sum(row["returned"] for row in items if row["unit_code"] == unit)


def test_a_returned_task_is_redispatched_to_another_unit(shared_system: Supervisor) -> None:
    system = shared_system
    with client_for(system) as admin:
        case_id = admin.post("/api/v1/calls", json=CALL).json()["id"]
        unit = wait_until(lambda: routed_case(admin, case_id), what="routing")["unit"]
        task = wait_until(lambda: task_of(admin, case_id), what="the task")
        returned_before = returned_on_card(admin, task["unit"])
        returned = admin.post(f"/api/v1/tasks/{task['id']}/return", json={"reason": "不属于本单位职责"})
        assert returned.status_code == 200 and returned.json()["state"] == "returned"
        target = other_unit(admin, unit)
        dispatched = admin.post(f"/api/v1/cases/{case_id}/dispatch", json={"unit": target, "reason": "改派"})
        assert dispatched.status_code == 200, dispatched.text
        new_task = wait_until(
            lambda: next(
                (
                    t
                    for t in admin.get("/api/v1/tasks").json()["items"]
                    if t["case_id"] == case_id and t["unit"] == target
                ),
                None,
            ),
            what="the new unit's task",
        )
        assert new_task["state"] == "pending"
        # The 派单准确率 card (its rollups, kept by the feed) counts the 退回 against the first unit.
        wait_until(lambda: returned_on_card(admin, task["unit"]) > returned_before, what="the 退回 on the card")
        # 首接负责 and one return only: the new unit cannot hand it back again.
        again = admin.post(f"/api/v1/tasks/{new_task['id']}/return", json={"reason": "也不是我们的"})
        assert again.status_code == 409 and "退回" in again.json()["detail"]


def test_every_endpoint_but_health_lookup_and_web_petitions_needs_a_login(shared_system: Supervisor) -> None:
    system = shared_system
    with httpx.Client(base_url=system.url) as anonymous:
        assert anonymous.get("/api/v1/health").status_code == 200
        for method, path in (("GET", "/api/v1/stats"), ("GET", "/api/v1/tasks"), ("POST", "/api/v1/calls")):
            response = anonymous.request(method, path, json=CALL if method == "POST" else None)
            assert response.status_code == 401, path
            assert "令牌" in response.json()["detail"] or "登录" in response.json()["detail"]
        web = anonymous.post(
            "/api/v1/petitions",
            json={"form": "web", "petitioner_name": "王某", "content": "小区门口道路破损严重，请修补。"},
        )
        assert web.status_code == 201
        assert anonymous.post("/api/v1/auth/token", json={"username": "admin", "password": "wrong"}).status_code == 401


def test_each_role_does_its_part_extension_pause_and_operator_scope(shared_system: Supervisor) -> None:
    system = shared_system
    with client_for(system) as admin:
        add_user(admin, "op-a", "operator")
        add_user(admin, "op-b", "operator")
        add_user(admin, "dispatcher1", "dispatcher")
        add_user(admin, "leader1", "leader")
    with client_for(system, username="op-a", password=PASSWORD) as operator:
        case_id = operator.post("/api/v1/calls", json=CALL).json()["id"]
        unit = wait_until(lambda: routed_case(operator, case_id), what="routing")["unit"]
        assert operator.get("/api/v1/stats").status_code == 403
    with client_for(system, username="op-b", password=PASSWORD) as other_operator:
        assert other_operator.get(f"/api/v1/cases/{case_id}").status_code == 404  # sees only what they logged
        assert other_operator.get("/api/v1/cases").json()["items"] == []
    with client_for(system) as admin:
        add_user(admin, "staff2", "unit", unit)
    with client_for(system, username="staff2", password=PASSWORD) as staff:
        task = wait_until(lambda: task_of(staff, case_id), what="the task")
        assert staff.post(f"/api/v1/tasks/{task['id']}/sign").status_code == 200
        paused = staff.post(f"/api/v1/tasks/{task['id']}/pause", json={"reason": "等待来电人补充现场照片"})
        assert paused.json()["state"] == "paused"
        wait_until(
            lambda: any(d["state"] == "paused" for d in staff.get(f"/api/v1/cases/{case_id}").json()["deadlines"]),
            what="the clocks to stop",
        )
        assert staff.post(f"/api/v1/tasks/{task['id']}/resume", json={}).json()["state"] == "signed"
        asked = staff.post(f"/api/v1/tasks/{task['id']}/extend", json={"days": 5, "reason": "需协调多个部门现场核查"})
        assert asked.status_code == 200 and asked.json()["extension_request"]["days"] == 5
        assert staff.post(f"/api/v1/tasks/{task['id']}/extension", json={"approved": True}).status_code == 403
    with client_for(system, username="dispatcher1", password=PASSWORD) as dispatcher:
        before = {d["name"]: d["due_at"] for d in dispatcher.get(f"/api/v1/cases/{case_id}").json()["deadlines"]}
        decided = dispatcher.post(f"/api/v1/tasks/{task['id']}/extension", json={"approved": True, "note": "同意"})
        assert decided.status_code == 200 and decided.json()["extension_request"]["decision"] == "approved"

        def extended() -> dict[str, Any] | None:
            # Two services, each at its own pace: escalation moves the clock, the feed records the step.
            case: dict[str, Any] = dispatcher.get(f"/api/v1/cases/{case_id}").json()
            finish = next(d for d in case["deadlines"] if d["name"] == "finish")
            recorded = any(e["kind"] == "extension_decided" for e in case["history"])
            return case if finish["due_at"] != before["finish"] and finish["extended_by"] and recorded else None

        case = wait_until(extended, what="the finishing clock to move and the decision to be on record")
        kinds = [e["kind"] for e in case["history"]]
        assert {"signed", "paused", "resumed", "extension_requested", "extension_decided"} <= set(kinds)
    with client_for(system, username="leader1", password=PASSWORD) as leader:
        assert leader.get("/api/v1/stats").status_code == 200
        assert leader.get(f"/api/v1/cases/{case_id}").status_code == 200
        assert leader.post("/api/v1/calls", json=CALL).status_code == 403


def test_a_petition_reply_opens_the_review_window_and_a_request_starts_the_review_clock(
    shared_system: Supervisor,
) -> None:
    system = shared_system
    with client_for(system) as admin:
        case_id = admin.post("/api/v1/petitions", json=PETITION).json()["id"]
        wait_until(lambda: routed_case(admin, case_id), what="routing")
        early = admin.post(
            f"/api/v1/cases/{case_id}/review", json={"stage": "review", "action": "request", "note": "不服处理意见"}
        )
        assert early.status_code == 409 and "尚无书面答复" in early.json()["detail"]
        task = wait_until(lambda: task_of(admin, case_id), what="the task")
        admin.post(f"/api/v1/tasks/{task['id']}/sign")
        admin.post(f"/api/v1/tasks/{task['id']}/answer", json={"answer": "经核实，开发商已承诺年底前交房。"})

        def clock(name: str, state: str) -> dict[str, Any] | None:
            case = admin.get(f"/api/v1/cases/{case_id}").json()
            return next((d for d in case["deadlines"] if d["name"] == name and d["state"] == state), None)

        wait_until(lambda: clock("review_window", "open"), what="the 复查 window")
        requested = admin.post(
            f"/api/v1/cases/{case_id}/review", json={"stage": "review", "action": "request", "note": "不服处理意见"}
        )
        assert requested.status_code == 200, requested.text
        review = wait_until(lambda: clock("review", "open"), what="the 复查 clock")
        assert review["label"] == "收到复查请求之日起30日内提出复查意见"
        assert clock("review_window", "met")
