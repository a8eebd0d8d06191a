from datetime import UTC, datetime, timedelta

from hotline.services.escalation.rules import DEFAULT_LADDER, deadlines_for, next_step_at, steps_due
from hotline.shared.events import Channel, EscalationStep, Severity

RECEIVED = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


def test_default_clock_is_48_hours_from_receipt() -> None:
    [respond] = deadlines_for(channel=Channel.HOTLINE, severity=Severity.GENERAL, received_at=RECEIVED)
    assert respond.name == "respond"
    assert respond.due_at - RECEIVED == timedelta(hours=48)


def test_major_media_mention_also_needs_authoritative_information_within_5_hours() -> None:
    deadlines = deadlines_for(channel=Channel.MEDIA, severity=Severity.MAJOR, received_at=RECEIVED)
    assert {d.name: d.due_at - RECEIVED for d in deadlines} == {
        "respond": timedelta(hours=48),
        "first_release": timedelta(hours=5),
    }


def test_ladder_steps_fall_at_75_90_and_100_percent() -> None:
    due = RECEIVED + timedelta(hours=48)
    assert next_step_at(RECEIVED, due, 0) == RECEIVED + timedelta(hours=36)
    assert next_step_at(RECEIVED, due, 1) == RECEIVED + timedelta(hours=43.2)
    assert next_step_at(RECEIVED, due, 2) == due
    assert next_step_at(RECEIVED, due, 3) is None


def test_nothing_is_due_before_75_percent() -> None:
    due = RECEIVED + timedelta(hours=48)
    assert steps_due(starts_at=RECEIVED, due_at=due, taken=0, now=RECEIVED + timedelta(hours=35)) == []


def test_a_late_scan_takes_every_missed_step_in_order() -> None:
    due = RECEIVED + timedelta(hours=48)
    steps = steps_due(starts_at=RECEIVED, due_at=due, taken=0, now=due + timedelta(hours=1))
    assert [step.step for _, step in steps] == [EscalationStep.REMIND, EscalationStep.URGE, EscalationStep.OVERDUE]


def test_steps_already_taken_are_not_taken_again() -> None:
    due = RECEIVED + timedelta(hours=48)
    steps = steps_due(starts_at=RECEIVED, due_at=due, taken=2, now=due)
    assert [index for index, _ in steps] == [len(DEFAULT_LADDER) - 1]
