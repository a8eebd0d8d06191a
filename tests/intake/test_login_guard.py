"""Login throttling rules, over a fake monotonic clock."""

from __future__ import annotations

from hotline.services.intake.login_guard import LoginGuard


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_free_failures_then_doubling_lockout_capped() -> None:
    clock = FakeClock()
    guard = LoginGuard(free_failures=3, base_lockout_s=30, max_lockout_s=100, now=clock)
    for _ in range(2):
        guard.failed("admin", "10.0.0.1")
    assert guard.retry_after("admin", "10.0.0.1") == 0
    guard.failed("admin", "10.0.0.1")
    assert guard.retry_after("admin", "10.0.0.1") == 30
    guard.failed("admin", "10.0.0.1")
    assert guard.retry_after("admin", "10.0.0.1") == 60
    guard.failed("admin", "10.0.0.1")
    assert guard.retry_after("admin", "10.0.0.1") == 100  # capped
    clock.t += 100
    assert guard.retry_after("admin", "10.0.0.1") == 0


def test_user_locked_from_any_address_and_address_locked_for_any_user() -> None:
    clock = FakeClock()
    guard = LoginGuard(free_failures=2, base_lockout_s=10, now=clock)
    guard.failed("li", "a")
    guard.failed("li", "b")
    assert guard.retry_after("li", "c") == 10  # the user is locked wherever the next try comes from
    guard.failed("wang", "d")
    guard.failed("zhao", "d")
    assert guard.retry_after("sun", "d") == 10  # the address is locked whichever name it tries


def test_success_clears_the_user_not_the_address() -> None:
    clock = FakeClock()
    guard = LoginGuard(free_failures=2, base_lockout_s=10, now=clock)
    guard.failed("li", "a")
    guard.failed("wang", "a")
    clock.t += 10
    guard.succeeded("li")
    assert guard.retry_after("li", "b") == 0
    assert guard.retry_after("li", "a") == 0  # the lock-out has run out
    guard.failed("li", "a")
    assert guard.retry_after("zhao", "a") > 0  # three failures from "a": still counted


def test_failures_are_forgotten_after_an_hour() -> None:
    clock = FakeClock()
    guard = LoginGuard(free_failures=2, base_lockout_s=10, forget_after_s=3600, now=clock)
    guard.failed("li", "a")
    clock.t += 3601
    guard.failed("li", "a")
    assert guard.retry_after("li", "a") == 0
