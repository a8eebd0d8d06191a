"""UtcDateTime on SQLite writes exactly the text SQLAlchemy's own DATETIME writes: stored moments
compare as text in SQL, so one differing digit would misorder deadlines."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.sqlite import DATETIME

from hotline.shared.db import UtcDateTime

SQLITE = sqlite.dialect()
FUSED = UtcDateTime().dialect_impl(SQLITE).bind_processor(SQLITE)
PLAIN = DATETIME().bind_processor(SQLITE)


def test_the_text_is_sqlalchemys_for_any_moment_in_any_zone() -> None:
    chooser = random.Random(30)
    for _ in range(20_000):
        zone = timezone(timedelta(minutes=chooser.randrange(-12 * 60, 14 * 60 + 1, 15)))
        moment = datetime(
            chooser.randint(2, 9998),
            chooser.randint(1, 12),
            chooser.randint(1, 28),
            chooser.randint(0, 23),
            chooser.randint(0, 59),
            chooser.randint(0, 59),
            chooser.choice((0, chooser.randrange(1_000_000))),
            tzinfo=chooser.choice((UTC, zone)),
        )
        assert FUSED(moment) == PLAIN(moment.astimezone(UTC).replace(tzinfo=None)), moment


def test_none_stays_none_and_a_naive_moment_is_refused() -> None:
    assert FUSED(None) is None
    with pytest.raises(ValueError, match="naive"):
        FUSED(datetime(2026, 11, 30, 12, 0))
