"""Consumers act only on cases the store knows: an event about any other case (forged, or from a
foreign system sharing the broker) is refused with `UnknownCaseError` and dead-lettered."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.shared.db import CaseRow
from hotline.shared.faults import UnknownCaseError

# The dead letter's reason, read by operators in the console.
UNKNOWN_CASE_REASON = "案件不存在"
# Built once: every batch of every consumer asks it.
_KNOWN = select(CaseRow.id).where(CaseRow.id.in_(bindparam("ids", expanding=True)))


def unknown_cases(case_ids: Iterable[uuid.UUID], known: set[uuid.UUID]) -> list[uuid.UUID]:
    """The ids not in `known`, each once, in order of first appearance."""
    return list(dict.fromkeys(c for c in case_ids if c not in known))


async def require_known_cases(session: AsyncSession, case_ids: Iterable[uuid.UUID]) -> None:
    """One query for the whole batch; raises when any case is unknown. The batch processor then
    retries the messages one by one, so the known cases proceed and each unknown one is parked."""
    wanted = list(dict.fromkeys(case_ids))
    if not wanted:
        return
    known = set((await session.scalars(_KNOWN, {"ids": wanted})).all())
    missing = unknown_cases(wanted, known)
    if missing:
        shown = ", ".join(str(c) for c in missing[:3])
        raise UnknownCaseError(f"{UNKNOWN_CASE_REASON}: {shown}")
