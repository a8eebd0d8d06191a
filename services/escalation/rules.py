"""Escalation rules (pure functions; DOMAIN.md "Clocks"): the ladder, and which steps of people stop
which clocks. The clocks themselves come from `policies.py` + `clocks.toml`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hotline.shared.events import Channel, EscalationStep, Verdict


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


# Clocks that answering stops. A hotline task is only finished (办结) when the citizen's 回访 is not
# 不满意; a petition's written reply (答复意见书) is its finishing step.
_ANSWER_MEETS = frozenset({"sign", "respond", "accept", "first_release", "press_conference"})


def clocks_met_by(kind: str, channel: Channel, verdict: Verdict | None = None) -> frozenset[str] | None:
    """The clock names a person's step meets: None means all of them, empty means none."""
    if kind == "signed":
        return frozenset({"sign"})
    if kind == "answered":
        return _ANSWER_MEETS if channel is Channel.HOTLINE else None
    if kind == "closed" or (kind == "visited" and verdict is not Verdict.UNSATISFIED):
        return None
    return frozenset()
