import uuid
from datetime import UTC, datetime, timedelta

import pytest

from hotline.shared.clock import SHANGHAI, FixedClock, ScaledClock, as_utc, beijing
from hotline.shared.events import CaseReceived, Channel, derived_event_id


def test_scaled_clock_runs_scale_times_faster_from_its_epoch() -> None:
    epoch = datetime(2026, 11, 24, tzinfo=UTC).timestamp()
    clock = ScaledClock(scale=3600, epoch=epoch - 2)  # two real seconds ago
    elapsed = clock.now() - datetime.fromtimestamp(epoch - 2, tz=UTC)
    assert timedelta(hours=2) <= elapsed  # at least two hours of case time
    assert clock.real_seconds(timedelta(hours=48)) == 48


def test_naive_times_are_read_as_beijing_time_and_stored_in_utc() -> None:
    assert as_utc(datetime(2026, 11, 24, 9, 30)) == datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
    assert beijing(datetime(2026, 11, 24, 1, 30, tzinfo=UTC)).hour == 9
    assert beijing(datetime(2026, 11, 24, 1, 30, tzinfo=UTC)).tzinfo == SHANGHAI


def test_fixed_clock_refuses_naive_start_and_moves_only_when_told() -> None:
    with pytest.raises(ValueError):
        FixedClock(datetime(2026, 1, 1))
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    before = clock.now()
    clock.advance(timedelta(hours=1))
    assert clock.now() - before == timedelta(hours=1)


def test_derived_event_ids_are_stable_per_input_and_stage() -> None:
    source = uuid.uuid4()
    assert derived_event_id(source, "classified") == derived_event_id(source, "classified")
    assert derived_event_id(source, "classified") != derived_event_id(source, "routed")
    assert derived_event_id(source, "classified") != derived_event_id(uuid.uuid4(), "classified")


def test_events_store_times_in_utc_whatever_zone_they_arrive_in() -> None:
    event = CaseReceived(
        event_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        occurred_at="2026-11-24T09:30:00+08:00",  # type: ignore[arg-type]
        channel=Channel.HOTLINE,
        received_at="2026-11-24T09:30:00",  # type: ignore[arg-type]
        content="路灯坏了",
    )
    assert event.occurred_at == event.received_at == datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
