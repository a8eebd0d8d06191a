"""Deadline policies per channel, severity and category, read from `clocks.toml`.

The numbers live in a TOML file a supervisor can read and change; this module validates the file, picks
the clocks that apply to a case and computes their due times with `WorkCalendar`. Everything here is
pure: no clock, no database, no I/O besides reading the policy file.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal, cast

from hotline.shared.domain.calendar import WorkCalendar
from hotline.shared.events import Channel, Severity

__all__ = [
    "CASE_OPENING",
    "DEFAULT_POLICY_PATH",
    "STARTS_ON",
    "UNITS",
    "ClockPolicy",
    "ClockRule",
    "ComputedDeadline",
    "Extension",
    "Policies",
    "compute_deadline",
    "compute_deadlines",
    "due_at",
    "extended_due_at",
    "load_policies",
]

Unit = Literal["minutes", "hours", "days", "workdays"]
UNITS: tuple[Unit, ...] = ("minutes", "hours", "days", "workdays")
# What starts a clock. Only the case-opening ones are put on a new case by `compute_deadlines`; the others
# (复查/复核) are started by the workflow when the reply or the request is recorded.
STARTS_ON: tuple[str, ...] = (
    "received",
    "accepted",
    "replied",
    "review_requested",
    "review_replied",
    "recheck_requested",
)
CASE_OPENING: frozenset[str] = frozenset({"received", "accepted"})
DEFAULT_POLICY_PATH = Path(__file__).with_name("clocks.toml")

_UNIT_LABELS: dict[str, str] = {"minutes": "分钟", "hours": "小时", "days": "日", "workdays": "工作日"}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_SEVERITIES = frozenset(s.value for s in Severity)
_CHANNELS = frozenset(c.value for c in Channel)
# Other code relies on a clock named "respond" on every hotline and media case.
_REQUIRED_GENERAL = {Channel.HOTLINE.value: "respond", Channel.MEDIA.value: "respond"}

_CLOCK_KEYS = frozenset(
    {
        "channel",
        "name",
        "label",
        "amount",
        "unit",
        "source",
        "starts_on",
        "severities",
        "categories",
        "urgent",
        "extension",
    }
)
_EXTENSION_KEYS = frozenset({"amount", "unit", "times", "source"})


@dataclass(frozen=True, slots=True)
class Extension:
    """The longest extension that may be approved for a clock: `times` extensions of at most `amount` `unit`."""

    amount: float
    unit: Unit
    times: int
    source: str


@dataclass(frozen=True, slots=True)
class ClockPolicy:
    name: str
    label: str
    amount: float
    unit: Unit
    source: str
    starts_on: str = "received"
    extension: Extension | None = None


@dataclass(frozen=True, slots=True)
class ClockRule:
    """A policy and the cases it applies to; empty `severities` / `categories` mean all of them, and
    an `urgent` rule applies only to 紧急诉求."""

    channel: str
    policy: ClockPolicy
    severities: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    urgent: bool = False

    @property
    def specificity(self) -> tuple[bool, bool, bool]:
        # A threat to life outranks everything (minutes, not hours); a category rule is a deliberate
        # local exception (e.g. 投诉举报 15 工作日), so it beats a severity rule.
        return (self.urgent, bool(self.categories), bool(self.severities))

    def matches(self, *, channel: str, severity: str, category: str | None, urgent: bool = False) -> bool:
        if channel != self.channel or (self.urgent and not urgent):
            return False
        if self.severities and severity not in self.severities:
            return False
        return not self.categories or (category is not None and category in self.categories)


@dataclass(frozen=True, slots=True)
class Policies:
    rules: tuple[ClockRule, ...]

    def clocks_for(
        self,
        *,
        channel: str,
        severity: str,
        category: str | None = None,
        starts_on: frozenset[str] = CASE_OPENING,
        urgent: bool = False,
    ) -> tuple[ClockPolicy, ...]:
        """The clocks a case of this channel, severity and category runs against, in file order.

        For each clock name the most specific matching rule wins (see clocks.toml); a 紧急诉求
        (`urgent`) takes the urgent rules, which may also add clocks of their own. By default only the
        clocks that start when a case opens are returned; pass e.g. `starts_on=frozenset({"replied"})`
        for the 复查 window.
        """
        channel, severity = _check_case(channel, severity)
        chosen: dict[str, ClockRule] = {}
        for rule in self.rules:
            if rule.policy.starts_on not in starts_on:
                continue
            if not rule.matches(channel=channel, severity=severity, category=category, urgent=urgent):
                continue
            current = chosen.get(rule.policy.name)
            if current is None or rule.specificity > current.specificity:
                chosen[rule.policy.name] = rule
        # dict keeps the order in which each name first matched, i.e. the file order.
        return tuple(rule.policy for rule in chosen.values())

    def clock(self, *, channel: str, name: str, severity: str = Severity.GENERAL.value) -> ClockPolicy:
        """One named clock whatever starts it (e.g. `review` for a 复查 request); KeyError if none applies."""
        every = frozenset(STARTS_ON)
        for policy in self.clocks_for(channel=channel, severity=severity, starts_on=every):
            if policy.name == name:
                return policy
        raise KeyError(f"no clock {name!r} for channel {channel!r} and severity {severity!r}")


@dataclass(frozen=True, slots=True)
class ComputedDeadline:
    name: str
    label: str
    unit_of_time: str
    starts_at: datetime
    due_at: datetime
    source: str


def due_at(policy: ClockPolicy, start: datetime, calendar: WorkCalendar) -> datetime:
    """When `policy` falls due for a clock started at `start` (timezone-aware); UTC.

    May raise `CalendarGapError` for days/workdays clocks that reach a year without calendar data.
    """
    return _add(policy.unit, policy.amount, start, calendar)


def extended_due_at(
    policy: ClockPolicy, due: datetime, calendar: WorkCalendar, amount: float | None = None
) -> datetime:
    """The due time after an approved extension of `amount` (default: the maximum) counted from `due`.

    The extension is a new period that starts where the old one ended: its start day (the old last day)
    is not counted. ValueError if the policy allows no extension or `amount` exceeds the maximum.
    """
    if policy.extension is None:
        raise ValueError(f"clock {policy.name!r} cannot be extended")
    extension = policy.extension
    if amount is None:
        amount = extension.amount
    if not 0 < amount <= extension.amount:
        raise ValueError(
            f"clock {policy.name!r} may be extended by at most {extension.amount:g}{_UNIT_LABELS[extension.unit]}, "
            f"got {amount:g}"
        )
    if extension.unit in ("minutes", "hours"):
        return _add(extension.unit, amount, due, calendar)
    # A day-based due time is 24:00 of its last day, i.e. 00:00 of the next; step back an instant so the
    # old last day is the (uncounted) start day of the extension.
    return _add(extension.unit, amount, due - timedelta(microseconds=1), calendar)


def compute_deadline(policy: ClockPolicy, start: datetime, calendar: WorkCalendar) -> ComputedDeadline:
    return ComputedDeadline(
        name=policy.name,
        label=policy.label,
        unit_of_time=policy.unit,
        starts_at=_as_aware(start),
        due_at=due_at(policy, start, calendar),
        source=policy.source,
    )


def compute_deadlines(
    *,
    channel: str,
    severity: str,
    received_at: datetime,
    policies: Policies,
    calendar: WorkCalendar,
    category: str | None = None,
    accepted_at: datetime | None = None,
    urgent: bool = False,
) -> list[ComputedDeadline]:
    """The clocks of a new case with their due times (UTC), in policy-file order.

    `received_at` may be in the past (a letter arrives days after posting): the clocks count from it.
    Clocks that start on acceptance (信访 60 日) count from `accepted_at`, or from `received_at` while the
    acceptance is not recorded: acceptance never precedes receipt, so that deadline is never later than
    the legal one. Raises `CalendarGapError` when a clock reaches a year without calendar data.
    """
    received = _as_aware(received_at)
    accepted = _as_aware(accepted_at) if accepted_at is not None else received
    starts = {"received": received, "accepted": accepted}
    return [
        compute_deadline(policy, starts[policy.starts_on], calendar)
        for policy in policies.clocks_for(channel=channel, severity=severity, category=category, urgent=urgent)
    ]


def load_policies(path: Path | None = None) -> Policies:
    """Read and validate a clocks file (default: clocks.toml next to this module).

    Raises ValueError naming the file, the entry and the problem.
    """
    path = DEFAULT_POLICY_PATH if path is None else path
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path}: not valid TOML: {error}") from error
    try:
        return parse_policies(data)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from error


def parse_policies(data: Mapping[str, object]) -> Policies:
    """Validate a parsed clocks table (see clocks.toml for the format)."""
    unknown = set(data) - {"clock"}
    if unknown:
        raise ValueError(f"unknown top-level keys {sorted(unknown)}; clocks are [[clock]] entries")
    entries = data.get("clock")
    if not isinstance(entries, list) or not entries:
        raise ValueError("no [[clock]] entries")
    rules = tuple(_parse_rule(index, entry) for index, entry in enumerate(entries, start=1))
    _check_consistency(rules)
    return Policies(rules=rules)


def _parse_rule(index: int, entry: object) -> ClockRule:
    if not isinstance(entry, dict):
        raise ValueError(f"clock #{index}: must be a table")
    where = f"clock #{index} ({entry.get('channel', '?')}.{entry.get('name', '?')})"
    unknown = set(entry) - _CLOCK_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(_CLOCK_KEYS)}")
    channel = _text(entry, "channel", where)
    if channel not in _CHANNELS:
        raise ValueError(f"{where}: channel must be one of {sorted(_CHANNELS)}, got {channel!r}")
    name = _text(entry, "name", where)
    if not _NAME.match(name):
        raise ValueError(f"{where}: name must be lower_snake_case ascii, got {name!r}")
    unit = _unit(entry, where)
    amount = _amount(entry.get("amount"), unit, where)
    starts_on = entry.get("starts_on", "received")
    if starts_on not in STARTS_ON:
        raise ValueError(f"{where}: starts_on must be one of {list(STARTS_ON)}, got {starts_on!r}")
    severities = _string_set(entry, "severities", where)
    bad = severities - _SEVERITIES
    if bad:
        raise ValueError(f"{where}: unknown severities {sorted(bad)}; allowed: 一般, 较大, 重大, 特别重大")
    categories = _string_set(entry, "categories", where)
    urgent = entry.get("urgent", False)
    if not isinstance(urgent, bool):
        raise ValueError(f"{where}: urgent must be true or false, got {urgent!r}")
    extension = _extension(entry.get("extension"), where)
    policy = ClockPolicy(
        name=name,
        label=_text(entry, "label", where),
        amount=amount,
        unit=unit,
        source=_text(entry, "source", where),
        starts_on=cast(str, starts_on),
        extension=extension,
    )
    return ClockRule(channel=channel, policy=policy, severities=severities, categories=categories, urgent=urgent)


def _extension(raw: object, where: str) -> Extension | None:
    if raw is None:
        return None
    where = f"{where} extension"
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: must be a table with amount, unit, times, source")
    unknown = set(raw) - _EXTENSION_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(_EXTENSION_KEYS)}")
    unit = _unit(raw, where)
    times = raw.get("times", 1)
    if isinstance(times, bool) or not isinstance(times, int) or times < 1:
        raise ValueError(f"{where}: times must be a positive whole number, got {times!r}")
    return Extension(
        amount=_amount(raw.get("amount"), unit, where),
        unit=unit,
        times=times,
        source=_text(raw, "source", where),
    )


def _text(entry: Mapping[str, object], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: {key} must be a non-empty string, got {value!r}")
    return value.strip()


def _unit(entry: Mapping[str, object], where: str) -> Unit:
    unit = entry.get("unit")
    if unit not in UNITS:
        raise ValueError(f"{where}: unit must be one of {list(UNITS)}, got {unit!r}")
    return unit


def _amount(value: object, unit: Unit, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{where}: amount must be a positive number, got {value!r}")
    if unit in ("days", "workdays") and value != int(value):
        # 日 and 工作日 are whole days: a "2.5 日" deadline has no legal meaning.
        raise ValueError(f"{where}: amount in {unit} must be a whole number, got {value!r}")
    return float(value)


def _string_set(entry: Mapping[str, object], key: str, where: str) -> frozenset[str]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise ValueError(f"{where}: {key} must be a list of non-empty strings, got {value!r}")
    if key in entry and not value:
        raise ValueError(f"{where}: {key} is empty; leave it out to apply to all")
    return frozenset(item.strip() for item in value)


def _check_consistency(rules: tuple[ClockRule, ...]) -> None:
    starts: dict[tuple[str, str], str] = {}
    for rule in rules:
        key = (rule.channel, rule.policy.name)
        previous = starts.setdefault(key, rule.policy.starts_on)
        if previous != rule.policy.starts_on:
            raise ValueError(
                f"clock {rule.channel}.{rule.policy.name}: every entry of one clock must have the same starts_on "
                f"({previous!r} vs {rule.policy.starts_on!r})"
            )
    for i, first in enumerate(rules):
        for second in rules[i + 1 :]:
            if (first.channel, first.policy.name) != (second.channel, second.policy.name):
                continue
            if first.specificity != second.specificity:
                continue
            if _overlap(first.severities, second.severities) and _overlap(first.categories, second.categories):
                raise ValueError(
                    f"clock {first.channel}.{first.policy.name}: two equally specific entries apply to the same "
                    f"cases (severities {sorted(first.severities) or 'all'} / {sorted(second.severities) or 'all'}, "
                    f"categories {sorted(first.categories) or 'all'} / {sorted(second.categories) or 'all'})"
                )
    for channel, name in _REQUIRED_GENERAL.items():
        if not any(
            r.channel == channel
            and r.policy.name == name
            and not r.severities
            and not r.categories
            and not r.urgent
            and r.policy.starts_on == "received"
            for r in rules
        ):
            raise ValueError(
                f"channel {channel!r} needs a general clock named {name!r} (no severities, no categories, "
                f"starts_on received): the tracking service relies on it"
            )


def _overlap(first: frozenset[str], second: frozenset[str]) -> bool:
    # An empty set means "all", so it overlaps with anything.
    return not first or not second or bool(first & second)


def _check_case(channel: str, severity: str) -> tuple[str, str]:
    channel = str(channel)  # accepts the StrEnum members as well
    severity = str(severity)
    if channel not in _CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; expected one of {sorted(_CHANNELS)}")
    if severity not in _SEVERITIES:
        raise ValueError(f"unknown severity {severity!r}; expected one of 一般, 较大, 重大, 特别重大")
    return channel, severity


def _as_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"deadlines need a timezone-aware datetime, got naive {moment.isoformat()}")
    return moment.astimezone(UTC)


def _add(unit: str, amount: float, start: datetime, calendar: WorkCalendar) -> datetime:
    if unit == "minutes":  # wall clock, like hours: an emergency does not wait for office hours
        return calendar.add_hours(start, amount / 60)
    if unit == "hours":
        return calendar.add_hours(start, amount)
    if unit == "days":
        return calendar.add_calendar_days(start, int(amount))
    if unit == "workdays":
        return calendar.add_workdays(start, int(amount))
    raise ValueError(f"unknown unit {unit!r}")
