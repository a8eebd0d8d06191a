"""Which cases a person has routed (人工分拣, 派单/改派): a person's decision replaces the automatic
one, so the router, the feed and the escalation service all ask this before acting on a routing."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.shared.db import CaseEventRow
from hotline.shared.events import DecidedBy

# Built once: the consumers ask it for every batch they handle.
_ROUTED = select(CaseEventRow.case_id, CaseEventRow.payload).where(
    CaseEventRow.case_id.in_(bindparam("ids", expanding=True)), CaseEventRow.kind == "routed"
)


async def routed_by_person(session: AsyncSession, case_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """The cases among `case_ids` whose event log holds a `routed` event decided by a person."""
    wanted = list(set(case_ids))
    if not wanted:
        return set()
    rows = await session.execute(_ROUTED, {"ids": wanted})
    return {case_id for case_id, payload in rows if (payload or {}).get("decided_by") == DecidedBy.PERSON.value}
