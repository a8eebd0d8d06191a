"""Login throttling: per-user and per-address failure counts with an exponential lock-out.

Pure bookkeeping over an injected monotonic clock, so the rule is tested without sleeping. After
`free_failures` wrong passwords for a user (or from an address) the next attempt must wait
`base_lockout_s`, doubling with every further failure up to `max_lockout_s`; a success clears the user's
count (not the address's: one known password must not reopen a guessing address).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(slots=True)
class _Failures:
    count: int = 0
    last_at: float = 0.0


@dataclass
class LoginGuard:
    free_failures: int = 5
    base_lockout_s: float = 30.0
    max_lockout_s: float = 900.0
    forget_after_s: float = 3600.0
    now: Callable[[], float] = time.monotonic
    _users: dict[str, _Failures] = field(default_factory=dict)
    _addresses: dict[str, _Failures] = field(default_factory=dict)

    def retry_after(self, username: str, address: str) -> int:
        """Seconds until this user and address may try again (0: now)."""
        now = self.now()
        wait = max(self._wait(self._users.get(username), now), self._wait(self._addresses.get(address), now))
        return math.ceil(wait)

    def failed(self, username: str, address: str) -> None:
        now = self.now()
        for table, key in ((self._users, username), (self._addresses, address)):
            entry = table.get(key)
            if entry is None or now - entry.last_at > self.forget_after_s:
                entry = table[key] = _Failures()
            entry.count += 1
            entry.last_at = now
        self._prune(now)

    def succeeded(self, username: str) -> None:
        self._users.pop(username, None)

    def _wait(self, entry: _Failures | None, now: float) -> float:
        if entry is None or entry.count < self.free_failures or now - entry.last_at > self.forget_after_s:
            return 0.0
        lockout = min(self.base_lockout_s * 2.0 ** (entry.count - self.free_failures), self.max_lockout_s)
        return max(0.0, entry.last_at + lockout - now)

    def _prune(self, now: float) -> None:
        """Forget old entries so a flood of made-up names cannot grow memory without bound."""
        for table in (self._users, self._addresses):
            if len(table) > 10_000:
                for key in [k for k, v in table.items() if now - v.last_at > self.forget_after_s]:
                    del table[key]
