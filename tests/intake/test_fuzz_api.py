"""Schemathesis over the OpenAPI document: every operation, for every role and anonymously, with valid
and invalid input, against the in-process app with a real nats-server and SQLite. No answer may be a
5xx, and every error must be JSON with a Chinese `message`.

Bounded for the default run (HOTLINE_FUZZ_EXAMPLES examples per operation and mode, 3 by default);
`HOTLINE_FUZZ_EXAMPLES=100 pytest -m fuzz tests/intake/test_fuzz_api.py` is the larger run.
Generation is derandomized, so a run is repeatable.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.generation.case import Case

from hotline.natsserver import EmbeddedNats
from hotline.services.intake.accounts import ensure_admin
from hotline.services.intake.app import create_app
from hotline.shared.migrate import upgrade
from hotline.shared.settings import Settings
from tests.intake.test_api import ADMIN_PASSWORD, CALL, login

pytestmark = [pytest.mark.fuzz, pytest.mark.integration]

EXAMPLES = int(os.environ.get("HOTLINE_FUZZ_EXAMPLES", "3"))
ROLES = ("admin", "operator", "dispatcher", "unit", "leader", "anonymous")
# The SSE feed never ends a response; its parameters are covered by tests/feed and the API tests.
SKIPPED = {("GET", "/api/v1/feed")}
PASSWORD = "fuzz-pass-2026"
# Operations that need a service this test does not run (classifier, router, escalation, feed): their
# 503 is the right answer here, and must still be JSON with a Chinese message.
NEEDS_OTHER_SERVICES = {"/api/v1/health", "/api/v1/suggest"}


@pytest.fixture
def app_client(nats_server: EmbeddedNats, tmp_path: Path) -> Iterator[TestClient]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}"
    upgrade(url)
    ensure_admin(url, password=ADMIN_PASSWORD)
    with TestClient(create_app(Settings(NATS_URL=nats_server.url, DATABASE_URL=url))) as client:
        yield client


def _headers_by_role(client: TestClient) -> dict[str, dict[str, str]]:
    admin = login(client, "admin", ADMIN_PASSWORD)
    # Some data to read, export and act on, including what once broke exports.
    for content in (CALL["content"], '=HYPERLINK("http://example.com","点击")，路灯坏了'):
        assert client.post("/api/v1/calls", json={**CALL, "content": content}, headers=admin).status_code == 201
    unit = next(iter(client.get("/api/v1/units", headers=admin).json()["items"]))["code"]
    headers = {"admin": admin, "anonymous": {}}
    for role in ("operator", "dispatcher", "unit", "leader"):
        user = {
            "username": f"fuzz-{role}",
            "password": PASSWORD,
            "role": role,
            "unit": unit if role == "unit" else None,
        }
        assert client.post("/api/v1/users", json=user, headers=admin).status_code == 201
        headers[role] = login(client, f"fuzz-{role}", PASSWORD)
    return headers


def _request_kwargs(case: Case, headers: dict[str, str]) -> dict[str, Any]:
    """Schemathesis's requests-style arguments for the in-process TestClient (httpx)."""
    raw = case.as_transport_kwargs(base_url="http://testserver")
    kwargs: dict[str, Any] = {
        "method": raw["method"],
        "url": raw["url"],
        "params": raw.get("params"),
        "headers": {**(raw.get("headers") or {}), **headers},
    }
    if "json" in raw:
        kwargs["json"] = raw["json"]
    data = raw.get("data")
    if isinstance(data, str | bytes):
        kwargs["content"] = data
    elif data is not None:
        kwargs["data"] = data
    return kwargs


def _problem(response: Any, path: str) -> str | None:
    if response.status_code >= 500 and not (response.status_code == 503 and path in NEEDS_OTHER_SERVICES):
        return f"{response.status_code} {response.text[:300]}"
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            return f"{response.status_code} not JSON: {response.text[:200]}"
        message = body.get("message") if isinstance(body, dict) else None
        if not isinstance(message, str) or not any("\u4e00" <= ch <= "\u9fff" for ch in message):
            return f"{response.status_code} without a Chinese message: {response.text[:200]}"
    return None


def _fuzz(
    client: TestClient, operation: Any, mode: GenerationMode, headers_by_role: dict[str, dict[str, str]]
) -> tuple[int, list[str]]:
    """Send each generated request once per role; the number of requests and the problems seen."""
    problems: list[str] = []
    sent = 0

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def exercise(case: Case) -> None:
        nonlocal sent
        for role, headers in headers_by_role.items():
            kwargs = _request_kwargs(case, headers)
            sent += 1
            where = f"{role} {kwargs['method']} {kwargs['url']} {kwargs.get('params')}"
            try:
                response = client.request(**kwargs)
            except Exception as exc:  # an exception escaping the app is a 500 in production
                problems.append(f"{where}: raised {exc!r}")
                continue
            problem = _problem(response, operation.path)
            if problem:
                problems.append(f"{where}: {problem}")

    try:
        exercise()
    except Unsatisfiable:
        # An operation without parameters or body has no invalid form to send.
        if mode is GenerationMode.POSITIVE:
            problems.append(f"{operation.method.upper()} {operation.path}: no valid request could be generated")
    return sent, problems


# A ceiling, not a measurement: generous for a busy 2-core machine, and growing with the run's size.
@pytest.mark.timeout(300 + 120 * EXAMPLES)
def test_no_operation_answers_5xx_or_a_non_json_error(app_client: TestClient) -> None:
    """Each generated request is sent as every role: generation is the costly part, and every role
    must face the same hostile input."""
    headers_by_role = _headers_by_role(app_client)
    assert set(headers_by_role) == set(ROLES)
    schema = schemathesis.openapi.from_dict(app_client.get("/api/openapi.json").json())
    operations = [result.ok() for result in schema.get_all_operations()]
    problems: list[str] = []
    sent = 0
    for operation in operations:
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            count, found = _fuzz(app_client, operation, mode, headers_by_role)
            sent += count
            problems += found
    assert len(operations) >= 40, len(operations)  # the whole API was seen, not an empty document
    assert sent >= len(operations) * len(ROLES), sent
    assert not problems, "\n".join(problems[:30])
