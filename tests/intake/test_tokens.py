"""Token checks are cached for a few seconds, never past the token's own expiry, and logout revokes at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from hotline.services.intake.auth import Principal, Role, TokenCache
from tests.intake.test_api import ADMIN_PASSWORD, anonymous, login  # noqa: F401  (fixtures)

T0 = datetime(2026, 11, 29, 1, 0, tzinfo=UTC)
ALICE = Principal(1, "alice", Role.OPERATOR, None)


class FakeClock:
    def __init__(self) -> None:
        self.t = T0

    def __call__(self) -> datetime:
        return self.t


def test_a_cached_principal_lasts_the_ttl_then_is_read_again() -> None:
    clock = FakeClock()
    cache = TokenCache(ttl_s=5, now=clock)
    cache.put("t", ALICE, T0 + timedelta(hours=12))
    clock.t += timedelta(seconds=4.9)
    assert cache.get("t") == ALICE
    clock.t += timedelta(seconds=0.1)
    assert cache.get("t") is None


def test_a_cached_principal_never_outlives_its_token() -> None:
    clock = FakeClock()
    cache = TokenCache(ttl_s=5, now=clock)
    cache.put("t", ALICE, T0 + timedelta(seconds=1))
    clock.t += timedelta(seconds=1)
    assert cache.get("t") is None


def test_forget_and_a_full_cache() -> None:
    cache = TokenCache(ttl_s=5, max_entries=2, now=FakeClock())
    cache.put("a", ALICE, T0 + timedelta(hours=1))
    cache.forget("a")
    assert cache.get("a") is None
    for token in ("b", "c", "d"):
        cache.put(token, ALICE, T0 + timedelta(hours=1))
    assert cache.get("d") == ALICE and len(cache._entries) <= 2


def test_logout_revokes_the_token_at_once(anonymous: TestClient) -> None:  # noqa: F811
    headers = login(anonymous, "admin", ADMIN_PASSWORD)
    assert anonymous.get("/api/v1/me", headers=headers).status_code == 200  # now cached
    answer = anonymous.delete("/api/v1/auth/token", headers=headers)
    assert answer.status_code == 200 and answer.json() == {"revoked": True}
    again = anonymous.get("/api/v1/me", headers=headers)
    assert again.status_code == 401 and "令牌无效" in again.json()["message"]
    other = login(anonymous, "admin", ADMIN_PASSWORD)  # another session of the same user is untouched
    assert anonymous.get("/api/v1/me", headers=other).status_code == 200
