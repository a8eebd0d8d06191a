"""The 派单目录 edited by an admin: validated, versioned, in force for the next case."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import SystemFactory, client_for, wait_until
from tests.e2e.test_pipeline import CALL, routed_case


def routed_event(case: dict[str, Any]) -> dict[str, Any]:
    return next(e["event"] for e in reversed(case["history"]) if e["kind"] == "routed")


def test_an_edited_routing_table_is_versioned_and_used_at_once(start_system: SystemFactory) -> None:
    system = start_system()
    with client_for(system) as admin:
        table = admin.get("/api/v1/routing-table").json()
        assert table["version"] == 0 and table["units"] >= 20  # the table shipped with the system
        # Another township: the calls below must not be linked to this one as repeats.
        first = admin.post("/api/v1/calls", json={**CALL, "phone": "13900009999", "township": "湖头镇"}).json()
        assert routed_event(wait_until(lambda: routed_case(admin, first["id"]), what="routing"))["routing_version"] == 0

        bad = admin.put("/api/v1/routing-table", json={"content": 'name = "x"\n[units'})
        assert bad.status_code == 422 and "派单目录无效" in bad.json()["detail"][0]["message"]

        renamed = table["content"].replace('name = "县城管局"', 'name = "县城市管理局"')
        assert renamed != table["content"]
        saved = admin.put("/api/v1/routing-table", json={"content": renamed, "comment": "城管局更名"})
        assert saved.status_code == 200, saved.text
        version = saved.json()["version"]
        assert admin.get("/api/v1/routing-table").json()["version"] == version

        def routed_with_new_table() -> dict[str, Any] | None:
            case_id = admin.post("/api/v1/calls", json={**CALL, "phone": f"1380000{len(seen):04d}"}).json()["id"]
            seen.append(case_id)
            case = wait_until(lambda: routed_case(admin, case_id), what="routing")
            return case if routed_event(case)["routing_version"] == version else None

        seen: list[str] = []
        case = wait_until(routed_with_new_table, timeout_s=20, what="a case routed with the new version")
        assert routed_event(case)["routing_version"] == version
        if case["unit"] == "cgj":
            assert case["unit_name"] == "县城市管理局"
        versions = admin.get("/api/v1/routing-table/versions").json()["items"]
        assert versions[0]["version"] == version and versions[0]["comment"] == "城管局更名"


def test_admins_keep_the_working_day_overrides(start_system: SystemFactory) -> None:
    system = start_system()
    with client_for(system) as admin:
        assert admin.get("/api/v1/calendar").json()["version"] is None
        bad = admin.put("/api/v1/calendar", json={"covered_years": [2027], "overrides": {"2027-13-01": False}})
        assert bad.status_code == 422 and "工作日调整表无效" in bad.json()["detail"][0]["message"]
        saved = admin.put("/api/v1/calendar", json={"covered_years": [2027], "overrides": {"2027-01-01": False}})
        assert saved.status_code == 200 and saved.json()["version"] == 1
        assert admin.get("/api/v1/calendar").json()["overrides"] == {"2027-01-01": False}


STREETLIGHTS = """
[[matters]]
code = "streetlights-test"
name = "路灯维修（测试）"
class = "城乡建设"
lead = "slj"
terms = ["路灯"]
"""


def test_a_new_matter_catalogue_reaches_the_classifier_and_the_router(start_system: SystemFactory) -> None:
    system = start_system()
    with client_for(system) as admin:
        table = admin.get("/api/v1/routing-table").json()
        assert table["matter_count"] >= 40 and "[[matters]]" in table["matters"]

        unknown_unit = STREETLIGHTS.replace('lead = "slj"', 'lead = "nobody"')
        bad = admin.put("/api/v1/routing-table", json={"content": table["content"], "matters": unknown_unit})
        assert bad.status_code == 422
        assert "事项目录无效" in bad.json()["detail"][0]["message"] and "streetlights-test" in bad.text

        saved = admin.put("/api/v1/routing-table", json={"content": table["content"], "matters": STREETLIGHTS})
        assert saved.status_code == 200 and saved.json()["matter_count"] == 1
        version = saved.json()["version"]

        seen: list[str] = []

        def routed_by_new_matter() -> dict[str, Any] | None:
            case_id = admin.post("/api/v1/calls", json={**CALL, "phone": f"1390000{len(seen):04d}"}).json()["id"]
            seen.append(case_id)
            case = wait_until(lambda: routed_case(admin, case_id), what="routing")
            event = routed_event(case)
            return case if event["routing_version"] == version and event["matter_code"] else None

        case = wait_until(routed_by_new_matter, timeout_s=30, what="a case routed by the new matter catalogue")
        event = routed_event(case)
        assert (event["matter_code"], event["unit_code"]) == ("streetlights-test", "slj")
        assert event["reason"].startswith("事项：路灯维修（测试） → 县水利局")
        # The comment-free save kept the matters of the version before it.
        resaved = admin.put("/api/v1/routing-table", json={"content": table["content"]})
        assert resaved.json()["matter_count"] == 1
