"""Dead letters wait in their stream while the database is down, and are stored once it is back."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any, cast

from nats.aio.msg import Msg
from sqlalchemy.exc import OperationalError

from hotline.services.feed.app import DeadLetterStore
from hotline.shared.settings import Settings
from tests.shared.test_faults import FakeMsg


async def test_an_unavailable_database_keeps_dead_letters_in_the_stream_and_retries() -> None:
    stored: list[bytes] = []
    database_up = [False]

    async def store(messages: Sequence[Msg]) -> None:
        if not database_up[0]:
            raise OperationalError("INSERT", {}, sqlite3.OperationalError("unable to open database file"))
        stored.extend(m.data for m in messages)

    dead_letters = DeadLetterStore(store, Settings())
    letters = [FakeMsg(b"a", delivered=1), FakeMsg(b"b", delivered=30)]
    await dead_letters(cast(Any, letters))
    # Not acked: JetStream redelivers them after the back-off; the pull loop pauses meanwhile.
    assert [m.settled for m in letters] == [[("nak", 1.0)], [("nak", 10.0)]]
    assert stored == [] and dead_letters.pause_s() > 0

    database_up[0] = True
    again = [FakeMsg(b"a", delivered=2), FakeMsg(b"b", delivered=31)]
    await dead_letters(cast(Any, again))
    assert stored == [b"a", b"b"] and [m.settled for m in again] == [[("ack", None)], [("ack", None)]]
    assert dead_letters.pause_s() == 0
