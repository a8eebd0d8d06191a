"""People's routing decisions (人工分拣, 派单/改派) are kept as labelled examples."""

from __future__ import annotations

import asyncio

from fastapi.testclient import TestClient
from sqlalchemy import select

from hotline.services.intake.examples import AFTER_RETURN, MANUAL_SORTING, REDISPATCH, example_source
from hotline.shared.db import RoutingExampleRow, create_engine, session_factory
from tests.intake.test_api import CALL, anonymous, client  # noqa: F401  (fixtures)


def examples(database_url: str) -> list[RoutingExampleRow]:
    async def read() -> list[RoutingExampleRow]:
        engine = create_engine(database_url)
        try:
            async with session_factory(engine)() as session:
                query = select(RoutingExampleRow).order_by(RoutingExampleRow.decided_at)
                return list((await session.execute(query)).scalars())
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_the_kind_of_decision() -> None:
    assert example_source(returned=False, sorting=True) == MANUAL_SORTING
    assert example_source(returned=True, sorting=False) == AFTER_RETURN
    assert example_source(returned=False, sorting=False) == REDISPATCH


def test_sorting_and_dispatch_decisions_become_examples(client: TestClient, database_url: str) -> None:  # noqa: F811
    case_id = client.post("/api/v1/calls", json=CALL).json()["id"]
    sorted_ = client.post(f"/api/v1/cases/{case_id}/classify", json={"topic": "城乡建设", "unit": "cgj"})
    assert sorted_.status_code == 200, sorted_.text
    moved = client.post(f"/api/v1/cases/{case_id}/dispatch", json={"unit": "jtj", "reason": "村道归交通"})
    assert moved.status_code == 200, moved.text
    rows = examples(database_url)
    assert [(r.source, r.unit_code, r.topic, r.decided_by) for r in rows] == [
        (MANUAL_SORTING, "cgj", "城乡建设", "admin"),
        (REDISPATCH, "jtj", None, "admin"),  # no feed here to project the sorted topic onto the case
    ]
    assert rows[0].text == CALL["content"] and rows[0].township == CALL["township"]


def test_admins_search_add_and_change_matters(client: TestClient) -> None:  # noqa: F811
    found = client.get("/api/v1/matters", params={"q": "广场舞"}).json()
    assert found["total"] >= 300 and found["items"]
    assert all("广场舞" in " ".join(m["terms"]) or "广场舞" in m["name"] for m in found["items"])
    noise = found["items"][0]
    changed = {**{k: noise[k] for k in ("name", "class", "lead", "assist", "township", "terms", "exclude")}}
    changed["terms"] = [*noise["terms"], "跳坝坝舞"]
    saved = client.put(f"/api/v1/matters/{noise['code']}", json=changed)
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 1 and "跳坝坝舞" in saved.json()["matter"]["terms"]
    assert client.get("/api/v1/matters", params={"q": "跳坝坝舞"}).json()["items"][0]["code"] == noise["code"]

    new = {"name": "测试事项", "class": "民政", "lead": "nobody", "terms": ["测试词"]}
    bad = client.put("/api/v1/matters/test-new", json=new)
    assert bad.status_code == 422 and "test-new" in bad.text and "nobody" in bad.text
    added = client.put("/api/v1/matters/test-new", json={**new, "lead": "mzj"})
    assert added.status_code == 200 and added.json()["matter_count"] == found["total"] + 1
    table = client.get("/api/v1/routing-table").json()
    assert table["version"] == 2 and 'code = "test-new"' in table["matters"]
