"""A background task whose cancellation was lost (asyncio.wait_for on Python 3.11) still stops."""

from __future__ import annotations

import asyncio

from hotline.shared.tasks import stop_task


async def test_a_task_that_lost_its_first_cancellation_is_stopped() -> None:
    rounds = 0

    async def relay_like() -> None:
        nonlocal rounds
        while True:
            rounds += 1
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                if rounds < 3:
                    continue  # what a wait_for racing its future's completion does: the cancel is gone
                raise

    task = asyncio.create_task(relay_like())
    await asyncio.sleep(0.02)
    await asyncio.wait_for(stop_task(task, recancel_every_s=0.05), timeout=5)
    assert task.cancelled()


async def test_a_task_that_failed_is_stopped_without_a_stray_error() -> None:
    async def failing() -> None:
        raise RuntimeError("boom")

    task = asyncio.create_task(failing())
    await asyncio.sleep(0)
    await stop_task(task)
    assert task.done() and not task.cancelled()
