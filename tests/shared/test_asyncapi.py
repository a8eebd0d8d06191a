"""The published NATS contract: every subject is in the AsyncAPI document, every schema is valid JSON
Schema, and real events validate against the schema of their channel."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import jsonschema_rs
import pytest

from hotline.shared import asyncapi, subjects
from hotline.shared.events import CaseActed, CaseHandedOver, Channel, EmergencyLine


def subject_constants() -> dict[str, str]:
    """Every string constant of shared/subjects.py: subjects, streams, durables, wildcards."""
    found: dict[str, str] = {}
    for name, value in vars(subjects).items():
        if name.isupper() and isinstance(value, str):
            found[name] = value
        elif name.isupper() and isinstance(value, tuple):
            found.update({f"{name}[{i}]": item for i, item in enumerate(value) if isinstance(item, str)})
    return found


def test_every_subject_constant_is_published() -> None:
    text = json.dumps(asyncapi.document(), ensure_ascii=False)
    constants = subject_constants()
    assert len(constants) > 20
    missing = [name for name, value in constants.items() if json.dumps(value) not in text]
    assert missing == []


def test_subject_functions_are_channels() -> None:
    addresses = {channel.address for channel in asyncapi.channels()}
    assert subjects.notify_unit_subject("{unit_code}") in addresses
    assert subjects.deadletter_subject("{original_subject}") in addresses
    assert subjects.health_subject("{service}") in addresses
    assert set(subjects.CLOCK_STEPS) <= addresses


def test_every_schema_is_valid_json_schema() -> None:
    schemas = asyncapi.document()["components"]["schemas"]
    for name, schema in schemas.items():
        assert jsonschema_rs.meta.is_valid(schema), name


def test_every_reference_resolves() -> None:
    document = asyncapi.document()

    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
            return own + [r for value in node.values() for r in refs(value)]
        if isinstance(node, list):
            return [r for value in node for r in refs(value)]
        return []

    found = refs(document)
    assert found
    for ref in found:
        target: Any = document
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]  # a KeyError names the dangling reference
    for channel in document["channels"].values():
        assert channel["messages"]


def channel_validator(document: dict[str, Any], address: str) -> Any:
    """A validator of the payload schema of the (single-message) channel at `address`."""
    [channel] = [c for c in document["channels"].values() if c["address"] == address]
    [message] = channel["messages"].values()
    name = message["$ref"].rsplit("/", 1)[-1]
    payload_ref = document["components"]["messages"][name]["payload"]["$ref"]
    schema = {"components": document["components"], "$ref": payload_ref}
    return jsonschema_rs.validator_for(schema)


NOW = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)


def event_fields() -> dict[str, Any]:
    return {
        "event_id": uuid.uuid4(),
        "case_id": uuid.uuid4(),
        "occurred_at": NOW,
        "channel": Channel.HOTLINE,
        "received_at": NOW,
    }


@pytest.mark.parametrize(
    ("address", "event"),
    [
        (
            subjects.case_subject("answered"),
            CaseActed(
                **event_fields(),
                kind="answered",
                task_id=uuid.uuid4(),
                unit_code="zjj",
                actor="u1",
                actor_role="unit",
                note="已修复",
            ),
        ),
        (
            subjects.CASE_HANDED_OVER,
            CaseHandedOver(**event_fields(), line=EmergencyLine("119"), actor="op", actor_role="operator"),
        ),
    ],
)
def test_events_validate_against_their_channel(address: str, event: Any) -> None:
    validator = channel_validator(asyncapi.document(), address)
    payload = json.loads(event.model_dump_json())
    assert validator.is_valid(payload)
    broken = {**payload}
    del broken["case_id"]
    assert not validator.is_valid(broken)  # the schema really constrains the payload
