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

# What every client needs: the JetStream API (streams, consumers, pulls), acknowledgements, replies to
# requests (its own and those it answers), and parking messages it cannot process.
_JETSTREAM: Final = ("$JS.API.>", "$JS.ACK.>")
_INBOX: Final = "_INBOX.>"


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
        publish=(*publish, *subjects.DEADLETTER_SUBJECTS, *_JETSTREAM, _INBOX),
        subscribe=(*subscribe, subjects.health_subject(user), _INBOX),
    )
