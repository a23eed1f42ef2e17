"""Sightings: one per indicator and window, valid STIX 2.1, and nothing private unless allowed."""

from __future__ import annotations

from datetime import UTC, datetime

import stix2

from accord.sensor.model import Match
from accord.sensor.sightings import SightingAggregator, SightingPolicy, aggregate

ME = "identity--00000000-0000-4000-8000-0000000000aa"
BAD = "indicator--00000000-0000-4000-8000-0000000000bb"
WORSE = "indicator--00000000-0000-4000-8000-0000000000cc"


def _match(t: float, value: str, indicator: str = BAD, users: tuple[str, ...] = ()) -> Match:
    return Match("conn.log", 9, indicator, "id.resp_h", value, t, users)


MATCHES = [
    _match(3600.0 * 10 + 5, "198.51.100.1"),
    _match(3600.0 * 10 + 50, "10.0.0.7", users=("alice",)),
    _match(3600.0 * 11 + 1, "198.51.100.1"),
    _match(3600.0 * 10 + 9, "fd00::1", WORSE),
]


def test_counts_and_times_per_indicator_and_window() -> None:
    objects = aggregate(MATCHES, SightingPolicy(ME))
    sightings = [o for o in objects if o["type"] == "sighting"]
    summary = sorted((s["sighting_of_ref"], s["count"], s["first_seen"], s["last_seen"]) for s in sightings)
    assert summary == [
        (BAD, 1, "1970-01-01T11:00:01.000000Z", "1970-01-01T11:00:01.000000Z"),
        (BAD, 2, "1970-01-01T10:00:05.000000Z", "1970-01-01T10:00:50.000000Z"),
        (WORSE, 1, "1970-01-01T10:00:09.000000Z", "1970-01-01T10:00:09.000000Z"),
    ]
    assert all(s["where_sighted_refs"] == [ME] for s in sightings)
    assert len(objects) == 3  # no observed values by default
    for obj in objects:
        stix2.parse(obj, allow_custom=False)


def test_ids_are_stable_so_resending_makes_a_new_version() -> None:
    first = aggregate(MATCHES, SightingPolicy(ME))
    again = SightingAggregator(SightingPolicy(ME))
    for m in MATCHES:
        again.add(m)
    later = again.objects(datetime(2030, 1, 1, tzinfo=UTC))
    assert [o["id"] for o in first] == [o["id"] for o in later]
    assert later[0]["modified"].startswith("2030-01-01")


def test_internal_addresses_and_user_names_stay_home_unless_allowed() -> None:
    shared = aggregate(MATCHES, SightingPolicy(ME, share_values=True))
    values = {o.get("value") for o in shared}
    assert "198.51.100.1" in values and "10.0.0.7" not in values and "fd00::1" not in values
    assert not any(o["type"] == "user-account" for o in shared)
    for obj in shared:
        stix2.parse(obj, allow_custom=False)
    everything = aggregate(MATCHES, SightingPolicy(ME, share_values=True, allow_internal=True, allow_users=True))
    values = {o.get("value") for o in everything}
    assert {"10.0.0.7", "fd00::1"} <= values
    assert {o.get("account_login") for o in everything if o["type"] == "user-account"} == {"alice"}
