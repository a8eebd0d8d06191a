"""Every NATS subject and stream name of the system, in one place.

Subjects are versioned: a breaking change to an event gets a new `v2` subject beside the old one.
"""

from __future__ import annotations

from typing import Final

CASES_STREAM: Final = "CASES"
CASES_SUBJECTS: Final = ("case.v1.>",)

CASE_RECEIVED: Final = "case.v1.received"
CASE_CLASSIFIED: Final = "case.v1.classified"
CASE_ROUTED: Final = "case.v1.routed"
CASE_TRACKED: Final = "case.v1.tracked"
CASE_ESCALATED: Final = "case.v1.escalated"
CASE_ALERT: Final = "case.v1.alert"
CASE_REPEATED: Final = "case.v1.repeated"
CASE_URGENT: Final = "case.v1.urgent"  # a routed 紧急诉求 (on the feed)
CASE_HANDED_OVER: Final = "case.v1.handed_over"  # 转接 to 110/119/120/122 recorded
CASE_ALL: Final = "case.v1.>"


def case_subject(kind: str) -> str:
    """`case.v1.<kind>` for the unit workflow events (signed, answered, returned, ...)."""
    return f"case.v1.{kind}"


# The people's steps that move clocks or count towards a 问题工单 (the escalation service's input
# besides `routed`).
CLOCK_STEPS: Final = tuple(
    f"case.v1.{kind}"
    for kind in (
        "signed",
        "answered",
        "paused",
        "resumed",
        "extension_decided",
        "visited",
        "closed",
        "returned",
        "review_requested",
        "review_answered",
        "recheck_requested",
        "recheck_answered",
    )
)
CASE_VISITED: Final = "case.v1.visited"

# Escalations addressed to people: each unit's inbox and leadership's (督办). Kept out of CASES so
# the case log holds each step once.
NOTIFY_STREAM: Final = "NOTIFY"
NOTIFY_SUBJECTS: Final = ("notify.v1.>",)
NOTIFY_LEADERSHIP: Final = "notify.v1.leadership"
# 紧急诉求: leadership and the unit are told at once, not at the first ladder step.
NOTIFY_URGENT: Final = "notify.v1.urgent"


def notify_unit_subject(unit_code: str) -> str:
    return f"notify.v1.unit.{unit_code}"


DEADLETTER_STREAM: Final = "DEADLETTER"
DEADLETTER_SUBJECTS: Final = ("deadletter.v1.>",)


def deadletter_subject(source_subject: str) -> str:
    """Where a message that could not be processed is parked: `deadletter.v1.<original subject>`."""
    return f"deadletter.v1.{source_subject}"


# Core request/reply: classify a text now (the console's suggestion while an operator types).
CLASSIFY_REQUEST: Final = "hotline.v1.classify"


# Core notification: an admin saved a new 派单目录 version; routers reload it.
ROUTING_UPDATED: Final = "hotline.v1.routing.updated"


# Core notification: an admin saved new working-day overrides; the escalation service reloads them.
CALENDAR_UPDATED: Final = "hotline.v1.calendar.updated"


def health_subject(service: str) -> str:
    """Core NATS request/reply subject on which a service answers health checks."""
    return f"hotline.v1.health.{service}"


# Durable consumer names: one per (service, input). Renaming one starts a new consumer from scratch.
CLASSIFIER_DURABLE: Final = "classifier-received-v1"
ROUTER_DURABLE: Final = "router-classified-v1"
ESCALATION_DURABLE: Final = "escalation-routed-v1"
ESCALATION_WORKFLOW_DURABLE: Final = "escalation-clock-steps-v2"
FEED_DURABLE: Final = "feed-all-v1"
# The feed copies dead letters into the database; the API counts what this consumer still holds.
FEED_DEADLETTER_DURABLE: Final = "feed-deadletters-v1"

SERVICES: Final = ("classifier", "router", "escalation", "feed")

# The durable consumers each service runs, (stream, durable): its NATS user may create, read, pull
# and acknowledge these and no others (`nats_permissions.py`).
SERVICE_CONSUMERS: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "classifier": ((CASES_STREAM, CLASSIFIER_DURABLE),),
    "router": ((CASES_STREAM, ROUTER_DURABLE),),
    "escalation": ((CASES_STREAM, ESCALATION_DURABLE), (CASES_STREAM, ESCALATION_WORKFLOW_DURABLE)),
    "feed": ((CASES_STREAM, FEED_DURABLE), (DEADLETTER_STREAM, FEED_DEADLETTER_DURABLE)),
}
STREAMS: Final = (CASES_STREAM, DEADLETTER_STREAM, NOTIFY_STREAM)
