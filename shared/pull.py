"""A JetStream pull that takes what the server has without a task per message.

nats-py's `PullSubscription.fetch(batch=n)` waits for each message of a batch with `next_msg`: a uuid4,
two tasks and a timer a message, about a tenth of a pipeline stage's CPU when batches are full. Here the
messages of one no-wait pull request are taken from the subscription's inbox as they arrive and only
an empty inbox is awaited (once, with the time left). The server answers a no-wait pull at once with
the messages, or with a "no messages" status after fewer (also, on a busy machine, for a message stored
a moment before: the consumer counts new messages asynchronously; the next pull takes it); only while
the consumer's max_ack_pending is reached does it hold a request back, and what it later sends that
request is taken by the next call.
It reads the same internals nats-py's own fetch reads (the subscription's pending queue, the consumer's
next-message subject and inbox); the tests run it against a real nats-server.
"""

from __future__ import annotations

import asyncio
import json
import time

from nats.aio.msg import Msg
from nats.js import JetStreamContext, api
from nats.js.errors import APIError

# Statuses that end a no-wait pull: nothing (more) there now, or the request expired.
_END = frozenset({api.StatusCode.NO_MESSAGES, api.StatusCode.REQUEST_TIMEOUT})
# Statuses to pass over: a heartbeat, or a conflict the server reports for a request other than this one.
_SKIP = frozenset({api.StatusCode.CONTROL_MESSAGE, api.StatusCode.CONFLICT})


def _status(msg: Msg) -> str | None:
    headers = msg.headers
    return None if headers is None else headers.get(api.Header.STATUS)


async def fetch_available(psub: JetStreamContext.PullSubscription, room: int, timeout_s: float) -> list[Msg]:
    """Up to `room` messages the consumer has for us now, waiting at most `timeout_s` in all for the
    server's answer; [] when there are none. A status other than the expected ones raises `APIError`
    as nats-py's fetch does."""
    if room <= 0:
        return []
    sub = psub._sub
    queue = sub._pending_queue
    msgs: list[Msg] = []

    def take(msg: Msg) -> str | None:
        sub._pending_size -= len(msg.data)
        queue.task_done()  # an unsubscribe's drain waits for the queue to be done
        return _status(msg)

    # Left over from an earlier request (its statuses were meant for that one).
    while len(msgs) < room and not queue.empty():
        msg = queue.get_nowait()
        if take(msg) is None:
            msgs.append(msg)
    needed = room - len(msgs)
    if needed == 0:
        return msgs
    request = json.dumps({"batch": needed, "no_wait": True}).encode()
    await psub._nc.publish(psub._nms, request, psub._deliver)
    deadline = time.monotonic() + timeout_s
    while needed:
        if queue.empty():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                msg = await asyncio.wait_for(queue.get(), left)
            except TimeoutError:
                break
        else:
            msg = queue.get_nowait()
        status = take(msg)
        if status is None:
            msgs.append(msg)
            needed -= 1
        elif status in _END:
            break
        elif status not in _SKIP:
            raise APIError.from_msg(msg)
    return msgs
