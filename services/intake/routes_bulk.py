"""Bulk intake for media monitoring feeds and migrations: many contacts in one request, each
validated and stored on its own (the same rows, repeat links and events as one-by-one intake), each
with a client key that makes sending it again harmless."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.exc import IntegrityError

from hotline.services.intake.auth import Principal, Role, require
from hotline.services.intake.cases import (
    CaseRef,
    InvalidCase,
    case_from_call,
    case_from_mention,
    case_from_petition,
    cases_of_keys,
)
from hotline.services.intake.responses import BulkCreated, ContractRoute
from hotline.services.intake.routes import intake_one
from hotline.services.intake.runtime import Runtime
from hotline.services.intake.schemas import CallIn, MentionIn, PetitionIn, chinese_error
from hotline.shared.clock import Clock

router = APIRouter(prefix="/api/v1", route_class=ContractRoute)
BULK_ROLES = (Role.OPERATOR, Role.DISPATCHER, Role.ADMIN)
MAX_BULK_ITEMS = 500
Kind = Literal["call", "petition", "mention"]
_FORMS: dict[str, tuple[type[BaseModel], Callable[[Any, Clock], tuple[dict[str, Any], Any]]]] = {
    "call": (CallIn, case_from_call),
    "petition": (PetitionIn, case_from_petition),
    "mention": (MentionIn, case_from_mention),
}


class BulkItem(BaseModel):
    # Not a Body: control characters in the item's body are the body model's to judge (free text
    # drops them, other fields refuse them), as on the single endpoints.
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")
    kind: Kind
    body: dict[str, Any]


class BulkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Items stay plain objects here, so that one bad item is answered in its place, not as a 422 of all.
    items: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_BULK_ITEMS)


def _problems(exc: ValidationError) -> list[dict[str, str]]:
    """Chinese errors of an item; those of its body name the field as body.<field>."""
    found = [chinese_error(dict(error)) for error in exc.errors()]
    if exc.title == BulkItem.__name__:
        return found
    return [{**e, "field": f"body.{e['field']}"} for e in found]


@router.post("/cases/bulk", response_model=BulkCreated, summary="批量登记（舆情监测推送、历史数据迁移）")
async def create_bulk(
    body: BulkIn, request: Request, principal: Annotated[Principal, Depends(require(*BULK_ROLES))]
) -> dict[str, Any]:
    """Up to 500 items `{key, kind: call|petition|mention, body}`, each body as its single endpoint
    takes it. Every item is answered in order: created, repeat (linked to an open case), duplicate
    (its key was stored before: the case it made then) or invalid (with Chinese errors). Items are
    stored one by one; a request cut short (database down: 503) can be sent again whole."""
    runtime: Runtime = request.app.state.runtime
    items: list[dict[str, Any]] = []
    parsed: list[tuple[BulkItem, BaseModel] | None] = []
    for index, raw in enumerate(body.items):
        key = raw.get("key") if isinstance(raw.get("key"), str) else None
        try:
            item = BulkItem.model_validate(raw)
            form = _FORMS[item.kind][0].model_validate(item.body)
        except ValidationError as exc:
            parsed.append(None)
            items.append({"index": index, "key": key, "outcome": "invalid", "errors": _problems(exc)})
            continue
        parsed.append((item, form))
        items.append({"index": index, "key": item.key})
    known = await cases_of_keys(runtime.sessions, [entry[0].key for entry in parsed if entry is not None])
    try:
        for result, entry in zip(items, parsed, strict=True):
            if entry is not None:
                result.update(await _store(runtime, principal, *entry, known))
    finally:
        runtime.relay.wake()

    def count(outcome: str) -> int:
        return sum(1 for result in items if result.get("outcome") == outcome)

    return {
        "created": count("created"),
        "repeats": count("repeat"),
        "duplicates": count("duplicate"),
        "invalid": count("invalid"),
        "items": items,
    }


async def _store(
    runtime: Runtime, principal: Principal, item: BulkItem, form: BaseModel, known: dict[str, CaseRef]
) -> dict[str, Any]:
    if item.key in known:
        return _duplicate(known[item.key])
    _, make = _FORMS[item.kind]
    try:
        row, event = make(form, runtime.clock)
        created = await intake_one(runtime, row, event, principal, getattr(form, "handover_line", None), item.key)
    except InvalidCase as exc:
        return {"outcome": "invalid", "errors": [{"field": f"body.{exc.field}", "message": exc.message}]}
    except HTTPException as exc:
        return {"outcome": "invalid", "errors": [{"field": "body", "message": str(exc.detail)}]}
    except IntegrityError:
        # The same key sent by another request at the same moment: that one stored it.
        again = await cases_of_keys(runtime.sessions, [item.key])
        if item.key not in again:
            raise
        return _duplicate(again[item.key])
    # A key twice in one request: the second is a duplicate of the first.
    known[item.key] = CaseRef(uuid.UUID(created["id"]), created["query_code"], created["status"])
    outcome = "repeat" if "repeat_of" in created else "created"
    return {"outcome": outcome, **{k: created[k] for k in ("id", "query_code", "status", "repeat_of") if k in created}}


def _duplicate(case: CaseRef) -> dict[str, Any]:
    return {"outcome": "duplicate", "id": str(case.id), "query_code": case.query_code, "status": case.status}
