"""The operator's and dispatcher's helpers, and leadership's reports, against the real system."""

from __future__ import annotations

import io
from typing import Any

from hotline.supervisor import Supervisor
from tests.e2e.conftest import client_for, wait_until
from tests.e2e.test_pipeline import CALL, PETITION, routed_case


def test_suggestion_similar_cases_and_the_sorting_queue(shared_system: Supervisor) -> None:
    system = shared_system
    with client_for(system) as admin:
        suggestion = admin.post(
            "/api/v1/suggest", json={"text": "我家孩子落户办不了，派出所说要补材料，跑了三趟", "township": "城厢镇"}
        )
        assert suggestion.status_code == 200, suggestion.text
        body = suggestion.json()
        assert (body["topic"], body["subtopic"]) == ("政法", "户籍证件") and body["unit"]["name"] == "县公安局"
        assert body["urgent"] is False and body["urgent_lines"] == []
        urgent = admin.post("/api/v1/suggest", json={"text": "我现在站在凤城大桥上，不想活了"}).json()
        assert urgent["urgent"] is True and {"110", "120"} <= set(urgent["urgent_lines"]), urgent
        # The unit comes from the router's own decision: matter, reason and (when unsure) candidates.
        assert body["matter"]["code"] and body["reason"].startswith("事项：") and body["candidates"] == []
        unsure = admin.post("/api/v1/suggest", json={"text": "？？？……"}).json()
        assert unsure["unit"]["code"] == "rxb" and unsure["to_person"] is True

        first = admin.post("/api/v1/calls", json=CALL).json()
        wait_until(lambda: routed_case(admin, first["id"]), what="routing")
        similar = admin.get("/api/v1/cases/similar", params={"text": "经兜村路灯坏了，晚上很黑"}).json()["items"]
        # Among the most similar (other tests of the module log the same text: equal scores).
        assert first["id"] in [c["id"] for c in similar if c["similarity"] == similar[0]["similarity"]]

        # Text the model cannot read goes to the 人工分拣 queue; a dispatcher decides and it is routed.
        unclear_call = {**CALL, "phone": "13700001111", "content": "？？？……", "township": None}
        unclear = admin.post("/api/v1/calls", json=unclear_call).json()
        queued = wait_until(
            lambda: [c for c in admin.get("/api/v1/review").json()["items"] if c["id"] == unclear["id"]],
            what="the case in the sorting queue",
        )
        assert queued[0]["needs_review"] is True
        assert isinstance(queued[0]["candidates"], list)  # the router's offer, from its routed event
        decided = admin.post(
            f"/api/v1/cases/{unclear['id']}/classify", json={"topic": "城乡建设", "subtopic": "市政服务"}
        )
        assert decided.status_code == 200, decided.text

        def rerouted() -> dict[str, Any] | None:
            case: dict[str, Any] = admin.get(f"/api/v1/cases/{unclear['id']}").json()
            return case if not case["needs_review"] and case["unit"] not in (None, "rxb") else None

        case = wait_until(rerouted, what="the decided case to reach its unit")
        assert case["topic"] == "城乡建设"
        assert not [c for c in admin.get("/api/v1/review").json()["items"] if c["id"] == unclear["id"]]


def test_report_and_exports_carry_the_same_numbers_as_the_stats(shared_system: Supervisor) -> None:
    from openpyxl import load_workbook

    system = shared_system
    with client_for(system) as admin:
        admin.post("/api/v1/calls", json={**CALL, "outcome": "answered_on_spot"})
        last = admin.post("/api/v1/calls", json=CALL).json()
        wait_until(lambda: routed_case(admin, last["id"]), what="routing")
        stats = admin.get("/api/v1/stats").json()
        hotline = stats["by_channel"]["hotline"]
        report = admin.get("/api/v1/reports/period", params={"format": "md"})
        assert report.status_code == 200
        assert f"共接听热线电话{hotline['received']}个，当场解释{hotline['answered_on_spot']}项" in report.text
        assert f"转交有关单位办理{hotline['transferred']}项" in report.text

        csv = admin.get("/api/v1/exports/cases.csv")
        assert csv.status_code == 200 and csv.content.startswith("\ufeff查询码".encode())
        assert last["query_code"] in csv.text and "13859612345" not in csv.text  # no personal data
        workbook = load_workbook(io.BytesIO(admin.get("/api/v1/exports/stats.xlsx").content))
        rows = list(workbook.active.iter_rows(values_only=True))
        assert rows[1][:3] == ("全部", "合计", stats["overall"]["received"])
        docx = admin.get("/api/v1/reports/period", params={"format": "docx"})
        assert docx.status_code == 200 and docx.content[:2] == b"PK"


def test_a_dispatchers_decision_is_the_only_one(shared_system: Supervisor) -> None:
    """Reported: 人工分拣 to 教育局 ended at 城管局 with two pending tasks and a 问题工单, because the
    router also routed the person's classification by the table."""
    system = shared_system
    with client_for(system) as admin:
        unclear = admin.post(
            "/api/v1/calls", json={**CALL, "phone": "13700002222", "content": "？？？……", "township": None}
        ).json()
        wait_until(
            lambda: [c for c in admin.get("/api/v1/review").json()["items"] if c["id"] == unclear["id"]],
            what="the case in the sorting queue",
        )
        decided = admin.post(
            f"/api/v1/cases/{unclear['id']}/classify",
            json={"topic": "城乡建设", "subtopic": "市政服务", "unit": "jyj"},  # the table would say cgj
        )
        assert decided.status_code == 200, decided.text
        # The router reads classified events in order: once a later case is routed, it has seen the
        # person's classification too.
        later = admin.post("/api/v1/calls", json={**CALL, "phone": "13700003333"}).json()
        wait_until(lambda: routed_case(admin, later["id"]), what="a later case to be routed")
        case = wait_until(
            lambda: (c := admin.get(f"/api/v1/cases/{unclear['id']}").json())["unit"] == "jyj" and c,
            what="the case at 教育局",
        )
        routed = [e for e in case["history"] if e["kind"] == "routed"]
        assert [e["event"]["unit_code"] for e in routed][-1] == "jyj"
        assert "cgj" not in [e["event"]["unit_code"] for e in routed]
        assert not [e for e in case["history"] if e["kind"] == "escalated"]
        tasks = [t for t in admin.get("/api/v1/tasks").json()["items"] if t["case_id"] == unclear["id"]]
        assert [(t["unit"], t["state"]) for t in tasks if t["state"] == "pending"] == [("jyj", "pending")]

        # A 检举 against 县教育局 cannot be dispatched to 县教育局 by hand either.
        accusation = admin.post(
            "/api/v1/petitions",
            json={
                **PETITION,
                "is_accusation": True,
                "accused_unit": "县教育局",
                "content": "检举县教育局某干部收受学生家长财物。",
            },
        ).json()
        refused = admin.post(
            f"/api/v1/cases/{accusation['id']}/dispatch", json={"unit": "jyj", "reason": "教育系统的事"}
        )
        assert refused.status_code == 409 and "第三十条" in refused.json()["detail"]
