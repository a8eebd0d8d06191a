"""The published HTTP contract: every JSON operation declares the schema of its 2xx answer."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from hotline.services.intake.app import create_app
from hotline.shared.settings import Settings

# Not JSON: the SSE feed streams text/event-stream; reports and exports are file downloads.
NOT_JSON = {
    ("get", "/api/v1/feed"),
    ("get", "/api/v1/reports/period"),
    ("get", "/api/v1/exports/cases.{extension}"),
    ("get", "/api/v1/exports/stats.{extension}"),
}


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def success_schema(operation: dict[str, Any]) -> dict[str, Any] | None:
    for status, response in operation.get("responses", {}).items():
        if status.startswith("2"):
            schema = response.get("content", {}).get("application/json", {}).get("schema")
            if isinstance(schema, dict) and schema.get("$ref", "").startswith("#/components/schemas/"):
                return schema
    return None


def test_every_json_operation_declares_its_success_schema() -> None:
    document = create_app(Settings()).openapi()
    found = operations(document)
    assert len(found) >= 40  # the walk really sees the API, not an empty document
    missing = [
        f"{method.upper()} {path}"
        for method, path, operation in found
        if (method, path) not in NOT_JSON and success_schema(operation) is None
    ]
    assert missing == []


def test_referenced_response_schemas_exist_and_are_described() -> None:
    document = create_app(Settings()).openapi()
    components = document["components"]["schemas"]
    for method, path, operation in operations(document):
        if (method, path) in NOT_JSON:
            continue
        schema = success_schema(operation)
        assert schema is not None
        name = schema["$ref"].rsplit("/", 1)[-1]
        assert components[name].get("properties"), f"{method} {path}: {name} has no properties"


def test_every_exception_is_a_download_or_stream() -> None:
    """The exclusions name real operations (a renamed route would otherwise escape the check)."""
    document = create_app(Settings()).openapi()
    paths = {(method, path) for method, path, _ in operations(document)}
    assert paths >= NOT_JSON


def test_asyncapi_is_served_without_login() -> None:
    """Beside /api/openapi.json: no token, no running broker or database needed."""
    client = TestClient(create_app(Settings()))  # no lifespan: the document needs no runtime
    response = client.get("/api/asyncapi.json")
    assert response.status_code == 200
    body = response.json()
    assert body["asyncapi"].startswith("3.")
    assert {c["address"] for c in body["channels"].values()} >= {"case.v1.received", "hotline.v1.classify"}
