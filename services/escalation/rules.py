"""Deadline and escalation rules (pure functions; DOMAIN.md "Clocks").

The foundation clocks are wall-clock hours; working-day clocks (信访 60 日, 5 工作日 finishing) build
on the same shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from hotline.shared.events import Channel, EscalationStep, Severity

DEFAULT_RESPONSE_HOURS = 48
# 国办发〔2016〕80号: 重大/特别重大 舆情 need authoritative information within 5 hours.
MAJOR_MEDIA_FIRST_RESPONSE_HOURS = 5


@dataclass(frozen=True, slots=True)
class DeadlineSpec:
    name: str
    label: str
    starts_at: datetime
    due_at: datetime


@dataclass(frozen=True, slots=True)
class LadderStep:
    fraction: float
    step: EscalationStep
    notify: str


# 75% 提醒 the unit, 90% 催办 its head, 100% 超期 and 督办 by leadership (DOMAIN.md, configurable).
DEFAULT_LADDER: tuple[LadderStep, ...] = (
    LadderStep(0.75, EscalationStep.REMIND, "承办单位"),
    LadderStep(0.90, EscalationStep.URGE, "承办单位负责人"),
    LadderStep(1.00, EscalationStep.OVERDUE, "县领导督办"),
)


def deadlines_for(
    *,
    channel: Channel,
    severity: Severity,
    received_at: datetime,
    response_hours: float = DEFAULT_RESPONSE_HOURS,
) -> list[DeadlineSpec]:
    """The clocks a routed case runs against, counted from receipt."""
    deadlines = [
        DeadlineSpec(
            name="respond",
            label=f"{response_hours:g}小时内答复",
            starts_at=received_at,
            due_at=received_at + timedelta(hours=response_hours),
        )
    ]
    if channel is Channel.MEDIA and severity in (Severity.MAJOR, Severity.GRAVE):
        deadlines.append(
            DeadlineSpec(
                name="first_release",
                label=f"{MAJOR_MEDIA_FIRST_RESPONSE_HOURS}小时内发布权威信息",
                starts_at=received_at,
                due_at=received_at + timedelta(hours=MAJOR_MEDIA_FIRST_RESPONSE_HOURS),
            )
        )
    return deadlines


def step_time(starts_at: datetime, due_at: datetime, step: LadderStep) -> datetime:
    return starts_at + (due_at - starts_at) * step.fraction


def next_step_at(
    starts_at: datetime, due_at: datetime, taken: int, ladder: tuple[LadderStep, ...] = DEFAULT_LADDER
) -> datetime | None:
    """When the step after the `taken` first ones falls due; None once the ladder is exhausted."""
    if taken >= len(ladder):
        return None
    return step_time(starts_at, due_at, ladder[taken])


def steps_due(
    *,
    starts_at: datetime,
    due_at: datetime,
    taken: int,
    now: datetime,
    ladder: tuple[LadderStep, ...] = DEFAULT_LADDER,
) -> list[tuple[int, LadderStep]]:
    """The ladder steps that have fallen due by `now` and are not yet taken, in order.

    A scan that was late (service down) takes every missed step, so 超期 is never skipped.
    """
    return [
        (index, step)
        for index, step in enumerate(ladder)
        if index >= taken and step_time(starts_at, due_at, step) <= now
    ]
