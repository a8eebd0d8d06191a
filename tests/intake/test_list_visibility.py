"""Every GET route of the app, for the roles that see only some cases (an operator: what they logged;
a unit: its tasks): no answer may name a case that the same caller could not open by id.

The routes come from the app's OpenAPI document (FastAPI 0.165 keeps included routers lazily in
`app.routes`, behind private classes), so a list endpoint added later is checked without editing this
test; a route with a path parameter the test does not know how to fill fails it, on purpose."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from itertools import product
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from hotline.shared.db import CaseRow, TaskRow, transaction
from tests.intake.test_api import ADMIN_PASSWORD, CALL, login
from tests.intake.test_fuzz_api import app_client  # noqa: F401  (fixture)

pytestmark = pytest.mark.integration
PASSWORD = "visibility-pass-1"
# By design: the citizen's lookup answers whoever holds the 查询码 (rate-limited, public fields only).
PUBLIC = {"/api/v1/lookup/{query_code}"}
STREAMS = {"/api/v1/feed"}  # never ends for a reader; operators and units are refused outright
QUERY = {"text": CALL["content"], "reason": "核实办理情况", "format": "md"}


def _add_task(client: TestClient, case_id: str, unit: str, co_units: list[str]) -> str:
    """A unit's task as the feed projection stores it from a `routed` event (no feed service runs here)."""
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    task_id = uuid.uuid4()
    now = datetime.now(UTC)

    async def write() -> None:
        async with transaction(runtime.sessions) as session:
            session.add(
                TaskRow(
                    id=task_id,
                    case_id=uuid.UUID(case_id),
                    unit_code=unit,
                    unit_name=unit,
                    co_units=co_units,
                    state="pending",
                    assigned_at=now,
                    source_event_id=uuid.uuid4(),
                    updated_at=now,
                )
            )
            await session.execute(
                update(CaseRow).where(CaseRow.id == uuid.UUID(case_id)).values(unit_code=unit, status="routed")
            )

    client.portal.call(write)  # type: ignore[union-attr]
    return str(task_id)


def _route_unit_only(client: TestClient, case_id: str, unit: str) -> None:
    """A case whose `routed` state names a unit that holds no task for it (e.g. between projections)."""
    runtime = client.app.state.runtime  # type: ignore[attr-defined]

    async def write() -> None:
        async with transaction(runtime.sessions) as session:
            await session.execute(update(CaseRow).where(CaseRow.id == uuid.UUID(case_id)).values(unit_code=unit))

    client.portal.call(write)  # type: ignore[union-attr]


def _fill(path: str, values: dict[str, list[str]]) -> list[str]:
    names = re.findall(r"{(\w+)(?::\w+)?}", path)
    unknown = [name for name in names if name not in values]
    assert not unknown, f"{path}: no values for {unknown}; teach this test about them"
    urls = []
    for combination in product(*(values[name] for name in names)):
        url = path
        for name, value in zip(names, combination, strict=True):
            url = re.sub(r"{" + name + r"(?::\w+)?}", value, url)
        urls.append(url)
    return urls


def test_no_get_route_shows_an_operator_or_unit_a_case_it_cannot_open(app_client: TestClient) -> None:  # noqa: F811
    client = app_client
    admin = login(client, "admin", ADMIN_PASSWORD)
    units = [u["code"] for u in client.get("/api/v1/units", headers=admin).json()["items"]]
    mine, other, third = units[0], units[1], units[2]
    for name, role, unit in (("op-a", "operator", None), ("op-b", "operator", None), ("unit-a", "unit", mine)):
        user = {"username": name, "password": PASSWORD, "role": role, "unit": unit}
        assert client.post("/api/v1/users", json=user, headers=admin).status_code == 201
    as_op = login(client, "op-a", PASSWORD)
    as_op_b = login(client, "op-b", PASSWORD)
    as_unit = login(client, "unit-a", PASSWORD)

    def call(headers: dict[str, str], phone: str, content: str) -> dict[str, Any]:
        # Different callers, different matters: none is linked to another as a repeat.
        response = client.post("/api/v1/calls", json={**CALL, "phone": phone, "content": content}, headers=headers)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    own = call(as_op, "13900000001", CALL["content"])  # op-a's; its task is the unit's
    theirs = call(
        as_op_b, "13900000002", "湖头镇中学门口的红绿灯坏了，学生过马路很危险。"
    )  # op-b's; the unit assists (协办)
    elsewhere = call(admin, "13900000003", "小区物业乱收停车费，请有关部门查处。")  # another unit's task
    routed_only = call(
        admin, "13900000004", "菜市场周边占道经营严重，早上车辆无法通行。"
    )  # names the unit, no task for it
    tasks = [
        _add_task(client, own["id"], mine, []),
        _add_task(client, theirs["id"], other, [mine]),
        _add_task(client, elsewhere["id"], third, []),
    ]
    _route_unit_only(client, routed_only["id"], mine)
    cases = [own, theirs, elsewhere, routed_only]
    values = {
        "case_id": [c["id"] for c in cases],
        "query_code": [c["query_code"] for c in cases],
        "task_id": tasks,
        "extension": ["csv", "xlsx"],
    }
    document = client.get("/api/openapi.json").json()
    routes = [path for path, operations in document["paths"].items() if "get" in operations]
    assert len(routes) >= 20, routes

    for role, headers in (("operator", as_op), ("unit", as_unit)):
        openable = {
            c["id"] for c in cases if client.get(f"/api/v1/cases/{c['id']}", headers=headers).status_code == 200
        }
        hidden = [c for c in cases if c["id"] not in openable]
        assert openable and hidden, (role, openable)  # the check below compares something with something
        seen_in_lists: set[str] = set()
        for route in routes:
            if route in PUBLIC:
                continue
            if route in STREAMS:
                assert client.get(route, headers=headers).status_code == 403, (role, route)
                continue
            for url in _fill(route, values):
                response = client.get(url, params=QUERY, headers=headers)
                assert response.status_code != 500, (role, url, response.text)  # health may say 503 here
                if response.status_code != 200:
                    continue
                text = response.content.decode("utf-8", "replace")
                for case in hidden:
                    leaked = case["id"] in text or case["query_code"] in text
                    assert not leaked, f"{role} sees case {case['id']} in GET {url} but cannot open it"
                if "{" not in route:  # a list, not an item
                    seen_in_lists |= {c["id"] for c in cases if c["id"] in text}
        assert own["id"] in seen_in_lists, role  # the lists were read, and show what is the caller's
