from __future__ import annotations

import pytest

from hotline.shared import subjects
from hotline.shared.nats_permissions import ADMIN_USER, NATS_USERS, SERVICE_USERS, permissions


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


def test_every_service_can_use_replies_health_dead_letters_and_look_at_the_streams() -> None:
    for user in NATS_USERS:
        assert may_publish(user, subjects.deadletter_subject(subjects.CASE_RECEIVED))
        assert may_subscribe(user, "_INBOX.abc.def") and may_publish(user, "_INBOX.abc")
        assert all(may_publish(user, f"$JS.API.STREAM.INFO.{stream}") for stream in subjects.STREAMS)
        if user != ADMIN_USER:
            assert may_subscribe(user, subjects.health_subject(user))
            assert not may_subscribe(user, subjects.health_subject("other" + user))
    assert may_publish("intake", subjects.health_subject("router"))
    assert may_publish("intake", subjects.CLASSIFY_REQUEST) and may_subscribe("classifier", subjects.CLASSIFY_REQUEST)
    assert may_subscribe("router", subjects.ROUTING_UPDATED) and may_subscribe("escalation", subjects.CALENDAR_UPDATED)


def consumer_api(stream: str, durable: str) -> list[str]:
    """What running one pull consumer takes (nats-py's subjects)."""
    return [
        f"$JS.API.CONSUMER.CREATE.{stream}.{durable}",
        f"$JS.API.CONSUMER.CREATE.{stream}.{durable}.case.v1.received",
        f"$JS.API.CONSUMER.INFO.{stream}.{durable}",
        f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}",
        f"$JS.ACK.{stream}.{durable}.1.2.3.4.5",
    ]


def test_a_service_uses_its_own_durable_consumers_and_no_one_elses() -> None:
    owned = {(s, stream, durable) for s, pairs in subjects.SERVICE_CONSUMERS.items() for stream, durable in pairs}
    assert {durable for _, _, durable in owned} >= {subjects.CLASSIFIER_DURABLE, subjects.FEED_DEADLETTER_DURABLE}
    for user in SERVICE_USERS:
        for owner, stream, durable in owned:
            for subject in consumer_api(stream, durable):
                if user == "intake" and ".CONSUMER.INFO." in subject:
                    continue  # intake reads every consumer's lag (below)
                assert may_publish(user, subject) == (user == owner), (user, subject)
    assert may_publish(ADMIN_USER, "$JS.API.CONSUMER.MSG.NEXT.CASES.feed-all-v1")


def test_no_service_may_create_change_or_delete_streams_or_consumers() -> None:
    for user in SERVICE_USERS:
        for stream in (*subjects.STREAMS, "OTHER"):
            for verb in ("CREATE", "UPDATE", "DELETE", "PURGE", "MSG.DELETE", "MSG.GET", "SNAPSHOT"):
                assert not may_publish(user, f"$JS.API.STREAM.{verb}.{stream}"), (user, verb, stream)
            assert not may_publish(user, f"$JS.API.CONSUMER.CREATE.{stream}")  # an ephemeral one
            assert not may_publish(user, f"$JS.API.CONSUMER.DELETE.{stream}.{subjects.FEED_DURABLE}")
        assert not may_publish(user, "$JS.API.STREAM.LIST") and not may_publish(user, "$JS.API.ACCOUNT.PURGE.x")


def test_intake_reads_every_consumers_lag_but_pulls_from_none() -> None:
    for pairs in subjects.SERVICE_CONSUMERS.values():
        for stream, durable in pairs:
            assert may_publish("intake", f"$JS.API.CONSUMER.INFO.{stream}.{durable}")
            assert not may_publish("intake", f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}")


def test_the_admin_may_do_anything_and_strangers_nothing() -> None:
    assert may_publish(ADMIN_USER, subjects.CASE_ROUTED) and may_subscribe(ADMIN_USER, subjects.CASE_ALL)
    with pytest.raises(ValueError):
        permissions("mallory")
