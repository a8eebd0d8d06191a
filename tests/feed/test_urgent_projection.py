"""紧急诉求 on the case row: set by a classification that says so, never cleared by a later one."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from hotline.services.feed.projection import state_changes
from hotline.shared.events import CaseClassified, Channel, EmergencyLine, Severity

T0 = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


def classified(*, urgent: bool) -> CaseClassified:
    return CaseClassified(
        event_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        occurred_at=T0,
        channel=Channel.HOTLINE,
        received_at=T0,
        topic="卫生计生",
        severity=Severity.MAJOR,
        confidence=0.9,
        model_version="test",
        urgent=urgent,
        urgent_reasons=["服药轻生"] if urgent else [],
        urgent_lines=[EmergencyLine.AMBULANCE, EmergencyLine.POLICE] if urgent else [],
    )


def test_an_urgent_classification_marks_the_case() -> None:
    changes = state_changes(classified(urgent=True))
    assert changes["urgent"] is True
    assert changes["urgent_reasons"] == ["服药轻生"] and changes["urgent_lines"] == ["120", "110"]


def test_a_classification_without_urgency_leaves_the_flag_alone() -> None:
    assert not {"urgent", "urgent_reasons", "urgent_lines"} & set(state_changes(classified(urgent=False)))
