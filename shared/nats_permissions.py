"""Which NATS subjects each service user may publish and subscribe to (`hotline up` writes them
into nats-server's `authorization` block). Derived from `subjects.py`, so a new subject is granted
where it is declared or not at all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from hotline.shared import subjects

ADMIN_USER: Final = "admin"
SERVICE_USERS: Final = ("intake", *subjects.SERVICES)
NATS_USERS: Final = (*SERVICE_USERS, ADMIN_USER)

# What every client needs: replies to requests (its own and those it answers) and parking messages it
# cannot process. Streams are created and scaled by the admin (`hotline up`, `hotline init`); a service
# may only look at them, and use its own durable consumers (`jetstream_api`).
_INBOX: Final = "_INBOX.>"
_API: Final = "$JS.API"


def consumer_grants(stream: str, durable: str) -> tuple[str, ...]:
    """Create (or update) one durable, read it, pull from it and acknowledge its messages."""
    return (
        f"{_API}.CONSUMER.CREATE.{stream}.{durable}",
        f"{_API}.CONSUMER.CREATE.{stream}.{durable}.>",  # with its filter subject (nats-server 2.9+)
        f"{_API}.CONSUMER.DURABLE.CREATE.{stream}.{durable}",
        f"{_API}.CONSUMER.INFO.{stream}.{durable}",
        f"{_API}.CONSUMER.MSG.NEXT.{stream}.{durable}",
        f"$JS.ACK.{stream}.{durable}.>",
    )


def jetstream_api(user: str) -> tuple[str, ...]:
    """The JetStream API subjects a service user may publish to: the streams' info, its own
    consumers and, for intake (health, pipeline lag, dead letters pending), every consumer's info.
    Never STREAM.CREATE/UPDATE/DELETE/PURGE, nor another service's consumer."""
    grants = [f"{_API}.STREAM.INFO.{stream}" for stream in subjects.STREAMS]
    for stream, durable in subjects.SERVICE_CONSUMERS.get(user, ()):
        grants += consumer_grants(stream, durable)
    if user == "intake":
        grants += [
            f"{_API}.CONSUMER.INFO.{stream}.{durable}"
            for consumers in subjects.SERVICE_CONSUMERS.values()
            for stream, durable in consumers
        ]
    return tuple(grants)


@dataclass(frozen=True)
class Permissions:
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]


def permissions(user: str) -> Permissions:
    """The allow-lists of `user` (one of `NATS_USERS`); the admin (CLI, tests) may do anything."""
    if user == ADMIN_USER:
        return Permissions(publish=(">",), subscribe=(">",))
    own: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
        # Intake records every manual step, replays dead letters to their subject, tells the
        # others about new tables and asks them for health and classifications.
        "intake": (
            (
                subjects.CASE_ALL,
                subjects.ROUTING_UPDATED,
                subjects.CALENDAR_UPDATED,
                subjects.CLASSIFY_REQUEST,
                subjects.health_subject("*"),
            ),
            (),
        ),
        "classifier": ((subjects.CASE_CLASSIFIED,), (subjects.CLASSIFY_REQUEST, subjects.ROUTING_UPDATED)),
        "router": ((subjects.CASE_ROUTED,), (subjects.ROUTING_UPDATED,)),
        "escalation": (
            (
                subjects.CASE_TRACKED,
                subjects.CASE_ESCALATED,
                subjects.CASE_ALERT,
                subjects.CASE_URGENT,
                *subjects.NOTIFY_SUBJECTS,
            ),
            (subjects.CALENDAR_UPDATED,),
        ),
        "feed": ((), ()),
    }
    if user not in own:
        raise ValueError(f"unknown NATS user {user!r}")
    publish, subscribe = own[user]
    return Permissions(
        publish=(*publish, *subjects.DEADLETTER_SUBJECTS, *jetstream_api(user), _INBOX),
        subscribe=(*subscribe, subjects.health_subject(user), _INBOX),
    )
