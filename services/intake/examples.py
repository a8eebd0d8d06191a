"""People's routing decisions kept as labelled examples (`routing_examples`), in the decision's transaction.

A 人工分拣 decision, a 派单/改派 and a 改派 after a unit's 退回 each say which unit (or topic) a case
really belongs to; together they are the county's own training and tuning data.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.shared.db import CaseRow, RoutingExampleRow, TaskRow

MANUAL_SORTING = "人工分拣"
REDISPATCH = "改派"
AFTER_RETURN = "退回改派"


def example_source(*, returned: bool, sorting: bool) -> str:
    """What kind of decision this was (pure)."""
    if sorting:
        return MANUAL_SORTING
    return AFTER_RETURN if returned else REDISPATCH


async def record_example(
    session: AsyncSession,
    case: CaseRow,
    *,
    unit_code: str | None,
    topic: str | None,
    subtopic: str | None,
    sorting: bool,
    actor: str,
    now: datetime,
) -> RoutingExampleRow:
    returned = await session.scalar(
        select(TaskRow.unit_code).where(TaskRow.case_id == case.id, TaskRow.state == "returned").limit(1)
    )
    row = RoutingExampleRow(
        id=uuid.uuid4(),
        case_id=case.id,
        text=case.content,
        township=case.township,
        topic=topic or case.topic,
        subtopic=subtopic if topic else case.subtopic,
        unit_code=unit_code,
        previous_unit=case.unit_code,
        source=example_source(returned=returned is not None, sorting=sorting),
        decided_by=actor,
        decided_at=now,
    )
    session.add(row)
    return row
