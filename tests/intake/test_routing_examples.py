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
