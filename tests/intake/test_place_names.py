"""The place names of the repeat check are read at most every few seconds, and at once after an edit."""

from __future__ import annotations

from hotline.services.intake.runtime import PlaceNames


def test_place_names_are_kept_for_their_ttl_then_read_again() -> None:
    now = [100.0]
    places = PlaceNames(ttl_s=5.0, now=lambda: now[0])
    assert places.get() is None
    assert places.put(("城厢镇", "城厢")) == ("城厢镇", "城厢")
    now[0] = 104.9
    assert places.get() == ("城厢镇", "城厢")
    now[0] = 105.0
    assert places.get() is None


def test_forgetting_the_place_names_makes_the_next_call_read_them() -> None:
    places = PlaceNames(ttl_s=5.0, now=lambda: 0.0)
    places.put(("湖头镇",))
    places.forget()
    assert places.get() is None
