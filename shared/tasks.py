"""Stopping a background task for good.

On Python 3.11 `asyncio.wait_for` returns the result and drops the cancellation when the future it
awaits completes at the moment the task is cancelled (fixed in 3.12; nats-py's requests and this
project's loops use wait_for). A task cancelled once can then run on, and whoever awaits it after
`cancel()` waits forever: seen as intake's lifespan never finishing while its outbox relay kept
publishing. So the cancel is repeated until the task has ended.
"""

from __future__ import annotations

import asyncio
from typing import Any


async def stop_task(task: asyncio.Task[Any], *, recancel_every_s: float = 0.5) -> None:
    """Cancel `task` and return once it has ended (its exception, if any, is retrieved and dropped)."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=recancel_every_s)
    if not task.cancelled():
        task.exception()
