"""Escalation rules (pure functions; 山东 2020, 潍坊 2021 热线 rules): the ladder, and which steps of people stop
which clocks. The clocks themselves come from `policies.py` + `clocks.toml`."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from hotline.shared.events import Channel, EscalationStep, Verdict


@dataclass(frozen=True, slots=True)
class LadderStep:
    fraction: float
    step: EscalationStep
    notify: str


Ladder = tuple[LadderStep, ...]
LADDER_PATH = Path(__file__).with_name("ladder.toml")


def parse_ladder(data: Mapping[str, Any]) -> Ladder:
    """Validate a ladder table (see ladder.toml); ValueError says what is wrong."""
    entries = data.get("step")
    if not isinstance(entries, list) or not entries:
        raise ValueError("no [[step]] entries")
    ladder = []
    for index, entry in enumerate(entries, 1):
        try:
            fraction = float(entry["fraction"])
            step = EscalationStep(entry["step"])
            notify = str(entry["notify"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"step #{index}: needs fraction, step (提醒/催办/超期) and notify: {exc}") from exc
        if not 0 < fraction <= 1:
            raise ValueError(f"step #{index}: fraction must be in (0, 1], got {fraction}")
        ladder.append(LadderStep(fraction, step, notify))
    if any(b.fraction <= a.fraction for a, b in pairwise(ladder)):
        raise ValueError("steps must be in rising order of fraction")
    if ladder[-1].step is not EscalationStep.OVERDUE or ladder[-1].fraction != 1.0:
        raise ValueError("the last step must be 超期 at fraction 1.0")
    return tuple(ladder)


@cache
def configured_ladder(path: Path = LADDER_PATH) -> Ladder:
    return parse_ladder(tomllib.loads(path.read_text(encoding="utf-8")))


def step_time(starts_at: datetime, due_at: datetime, step: LadderStep) -> datetime:
    return starts_at + (due_at - starts_at) * step.fraction


def next_step_at(starts_at: datetime, due_at: datetime, taken: int, ladder: Ladder | None = None) -> datetime | None:
    """When the step after the `taken` first ones falls due; None once the ladder is exhausted."""
    ladder = ladder or configured_ladder()
    if taken >= len(ladder):
        return None
    return step_time(starts_at, due_at, ladder[taken])


def steps_due(
    *,
    starts_at: datetime,
    due_at: datetime,
    taken: int,
    now: datetime,
    ladder: Ladder | None = None,
) -> list[tuple[int, LadderStep]]:
    """The ladder steps that have fallen due by `now` and are not yet taken, in order.

    A scan that was late (service down) takes every missed step, so 超期 is never skipped.
    """
    ladder = ladder or configured_ladder()
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


# 复查/复核 (信访工作条例 第三十五、三十六条): each step meets one clock and starts the next. The
# petitioner's windows (`*_window`) bound a request; they are not the unit's duty and never escalate.
REVIEW_STEPS: dict[str, tuple[str | None, str | None]] = {
    "answered": (None, "review_window"),
    "review_requested": ("review_window", "review"),
    "review_answered": ("review", "recheck_window"),
    "recheck_requested": ("recheck_window", "recheck"),
    "recheck_answered": ("recheck", None),
}


REVIEW_CLOCKS = frozenset(clock for pair in REVIEW_STEPS.values() for clock in pair if clock)


def review_step(kind: str, channel: Channel) -> tuple[str | None, str | None]:
    """The clock a 信访 step meets and the one it starts (None, None for anything else)."""
    if channel is not Channel.PETITION:
        return None, None
    return REVIEW_STEPS.get(kind, (None, None))


def escalates(clock_name: str) -> bool:
    return not clock_name.endswith("_window")
