"""An event's payload stored from pydantic's own JSON reads back as the dict a plain JSON column gives
(SQLite, and PostgreSQL when reachable)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, text

from hotline.shared.db import CaseEventRow, JsonText, transaction
from hotline.shared.events import CaseReceived, Channel

AT = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)


def _row(payload: Any) -> dict[str, Any]:
    return {
        "event_id": uuid.uuid4(),
        "case_id": uuid.uuid4(),
        "kind": "received",
        "occurred_at": AT,
        "recorded_at": AT,
        "payload": payload,
    }


async def test_a_payload_given_as_json_text_reads_back_as_the_models_dict(sessions: Any) -> None:
    event = CaseReceived(
        event_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        occurred_at=AT,
        channel=Channel.HOTLINE,
        received_at=AT,
        content='小区路灯坏了半个月，晚上出行很不安全 \\ "引号"',
    )
    as_text, as_dict = _row(JsonText(event.model_dump_json())), _row(event.model_dump(mode="json"))
    async with transaction(sessions) as session:
        await session.execute(insert(CaseEventRow), [as_text, as_dict])
    async with sessions() as session:
        stored = dict((await session.execute(select(CaseEventRow.event_id, CaseEventRow.payload))).all())
        # Stored as a JSON object, not as a JSON string holding one.
        kinds = (await session.execute(text("SELECT payload FROM case_events"))).scalars().all()
    assert stored[as_text["event_id"]] == stored[as_dict["event_id"]] == event.model_dump(mode="json")
    assert all(not isinstance(kind, str) or kind.lstrip().startswith("{") for kind in kinds), kinds
    assert CaseReceived.model_validate(stored[as_text["event_id"]]) == event
