"""The live feed's poller says a database outage once, not a traceback four times a second."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from hotline.services.intake.live import FeedBroadcaster


async def test_an_outage_is_one_warning_and_its_end_one_line(caplog: pytest.LogCaptureFixture) -> None:
    feed = FeedBroadcaster(None, poll_s=0)  # type: ignore[arg-type]
    calls = 0
    polls_done = asyncio.Event()

    async def read_since(seq: int) -> list[dict[str, Any]]:
        nonlocal calls
        calls += 1
        if calls <= 20:
            raise OperationalError("SELECT", {}, ConnectionRefusedError(111, "Connect call failed"))
        if calls >= 25:
            polls_done.set()
        return []

    feed.read_since = read_since  # type: ignore[method-assign]
    feed._clients.add(asyncio.Queue())  # the poller reads only while someone listens
    with caplog.at_level(logging.INFO, logger="hotline.services.intake.live"):
        task = asyncio.create_task(feed._poll())
        await asyncio.wait_for(polls_done.wait(), timeout=60)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    messages = [record.getMessage() for record in caplog.records]
    assert len([m for m in messages if "database unavailable" in m]) == 1
    assert messages.count("live feed: database back") == 1
    assert not any(record.exc_info for record in caplog.records)
