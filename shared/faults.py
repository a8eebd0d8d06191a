"""What to do when processing a message fails: wait and retry (transient), or give up (permanent).

A transient failure is the world being briefly unavailable (the database restarting or locked, a lost
connection, NATS not answering): retrying later will succeed, so such a message is nacked with a
growing delay and never dead-lettered. A permanent failure (malformed data, an event about a case the
store does not know, a bug) will fail the same way every time: it is dead-lettered with its reason,
after a few attempts for errors we cannot tell apart from a transient glitch.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Final

from pydantic import ValidationError

BACKOFF_BASE_S: Final = 1.0
BACKOFF_CAP_S: Final = 60.0
# A consumer whose store is down tries again at least this often: rare enough not to hammer it,
# often enough to resume within seconds of its return.
PAUSE_CAP_S: Final = 10.0


class PermanentError(Exception):
    """Raised by a handler for input it will never be able to process (dead-lettered at once)."""


class UnknownCaseError(PermanentError):
    """An event about a case that does not exist in the store."""


# Wording of database errors that come from the schema or the statement, not from availability.
_NOT_TRANSIENT_WORDS: Final = ("no such table", "no such column", "syntax error", "does not exist")


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what it wraps (SQLAlchemy's `.orig`, `__cause__`, `__context__`)."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        pending.extend([orig if isinstance(orig, BaseException) else None, current.__cause__, current.__context__])


def _transient_one(exc: BaseException) -> bool:
    if isinstance(exc, PermanentError | ValidationError | ValueError | TypeError | KeyError | AttributeError):
        return False
    # OSError covers ConnectionError and TimeoutError (asyncio's too, since Python 3.11).
    if isinstance(exc, OSError | asyncio.TimeoutError):
        return True
    module = type(exc).__module__
    name = type(exc).__name__
    if module.startswith("sqlalchemy"):
        if getattr(exc, "connection_invalidated", False):
            return True
        if name in ("OperationalError", "InterfaceError", "DisconnectionError", "TimeoutError"):
            text = str(exc).lower()
            return not any(word in text for word in _NOT_TRANSIENT_WORDS)
        return False
    if module.startswith("asyncpg"):
        return name in (
            "PostgresConnectionError",
            "ConnectionDoesNotExistError",
            "ConnectionFailureError",
            "ConnectionRejectionError",
            "ClientCannotConnectError",
            "CannotConnectNowError",
            "AdminShutdownError",
            "CrashShutdownError",
            "TooManyConnectionsError",
            "InterfaceError",
            "SerializationError",
            "DeadlockDetectedError",
        )
    if module.startswith("sqlite3") or module.startswith("aiosqlite"):
        return name == "OperationalError" and "locked" in str(exc).lower()
    if module.startswith("nats"):
        return name in (
            "TimeoutError",
            "NoRespondersError",
            "ConnectionClosedError",
            "ConnectionReconnectingError",
            "ConnectionDrainingError",
            "StaleConnectionError",
            "OutboundBufferLimitError",
            "NoServersError",
            "FlushTimeoutError",
            "ServiceUnavailableError",
            "NoStreamResponseError",
            "FetchTimeoutError",
        )
    return False


def is_transient(exc: BaseException) -> bool:
    """True when retrying later can succeed: the store or the broker is unavailable, not the data bad.

    A permanent cause anywhere in the chain wins (a bad row reported through a driver error)."""
    if is_permanent(exc):
        return False
    return any(_transient_one(c) for c in _causes(exc))


def is_permanent(exc: BaseException) -> bool:
    """True when the input itself is at fault (malformed, unknown case): retrying cannot help."""
    return any(isinstance(c, PermanentError | ValidationError) for c in _causes(exc))


def backoff_s(attempt: int, *, base_s: float = BACKOFF_BASE_S, cap_s: float = BACKOFF_CAP_S) -> float:
    """Delay before attempt `attempt + 1`: base, doubling each attempt, capped (1, 2, 4 … 60 s)."""
    if attempt <= 1:
        return min(base_s, cap_s)
    return float(min(cap_s, base_s * 2 ** min(attempt - 1, 32)))


class Pause:
    """Holds back a pull loop while its store or broker is unreachable, so a consumer that cannot
    make progress does not hammer them: each transient failure in a row doubles the pause (capped),
    the first success clears it. `monotonic` is injectable for tests."""

    def __init__(
        self,
        *,
        base_s: float = BACKOFF_BASE_S,
        cap_s: float = PAUSE_CAP_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_s = base_s
        self.cap_s = cap_s
        self._monotonic = monotonic
        self.failures = 0
        self._until = 0.0

    def failed(self) -> float:
        self.failures += 1
        delay = backoff_s(self.failures, base_s=self.base_s, cap_s=self.cap_s)
        self._until = self._monotonic() + delay
        return delay

    def succeeded(self) -> None:
        self.failures = 0
        self._until = 0.0

    def remaining_s(self) -> float:
        return max(0.0, self._until - self._monotonic())
