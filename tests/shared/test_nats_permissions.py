from __future__ import annotations

import pytest

from hotline.shared import subjects
from hotline.shared.nats_permissions import ADMIN_USER, NATS_USERS, permissions


def allowed(pattern: str, subject: str) -> bool:
    """NATS wildcard matching: `*` one token, `>` the rest."""
    wanted, actual = pattern.split("."), subject.split(".")
    for index, token in enumerate(wanted):
        if token == ">":
            return len(actual) > index
        if index >= len(actual) or (token != "*" and token != actual[index]):
            return False
    return len(wanted) == len(actual)


def may_publish(user: str, subject: str) -> bool:
    return any(allowed(p, subject) for p in permissions(user).publish)


def may_subscribe(user: str, subject: str) -> bool:
    return any(allowed(p, subject) for p in permissions(user).subscribe)


def test_each_service_publishes_only_its_own_events() -> None:
    assert may_publish("classifier", subjects.CASE_CLASSIFIED)
    assert not may_publish("classifier", subjects.CASE_ROUTED)
    assert may_publish("router", subjects.CASE_ROUTED)
    assert not may_publish("router", subjects.CASE_RECEIVED)
    assert may_publish("escalation", subjects.notify_unit_subject("cgj"))
    assert not may_publish("escalation", subjects.CASE_ROUTED)
    assert not any(may_publish("feed", s) for s in (subjects.CASE_RECEIVED, subjects.NOTIFY_LEADERSHIP))
    assert may_publish("intake", subjects.case_subject("signed")) and may_publish("intake", subjects.ROUTING_UPDATED)
    assert not may_publish("intake", subjects.NOTIFY_LEADERSHIP)


def test_every_service_can_use_jetstream_replies_health_and_dead_letters() -> None:
    for user in NATS_USERS:
        assert may_publish(user, "$JS.API.CONSUMER.MSG.NEXT.CASES.feed-all-v1")
        assert may_publish(user, "$JS.ACK.CASES.feed-all-v1.1.2.3.4.5")
        assert may_publish(user, subjects.deadletter_subject(subjects.CASE_RECEIVED))
        assert may_subscribe(user, "_INBOX.abc.def") and may_publish(user, "_INBOX.abc")
        if user != ADMIN_USER:
            assert may_subscribe(user, subjects.health_subject(user))
            assert not may_subscribe(user, subjects.health_subject("other" + user))
    assert may_publish("intake", subjects.health_subject("router"))
    assert may_publish("intake", subjects.CLASSIFY_REQUEST) and may_subscribe("classifier", subjects.CLASSIFY_REQUEST)
    assert may_subscribe("router", subjects.ROUTING_UPDATED) and may_subscribe("escalation", subjects.CALENDAR_UPDATED)


def test_the_admin_may_do_anything_and_strangers_nothing() -> None:
    assert may_publish(ADMIN_USER, subjects.CASE_ROUTED) and may_subscribe(ADMIN_USER, subjects.CASE_ALL)
    with pytest.raises(ValueError):
        permissions("mallory")
