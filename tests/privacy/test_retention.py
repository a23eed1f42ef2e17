"""Retention (docs/privacy.md): rules validated, and the purge removes exactly what expired, on both backends."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from accord.domain.errors import InvalidInput
from accord.domain.retention import DAY, expires_at, parse_rule
from accord.services import admin, retention
from accord.stix.timestamps import micros_to_timestamp, now_micros
from accord.store import privacy as db
from accord.store.repository import Store
from tests.conftest import Node
from tests.privacy.helpers import post, sighting
from tests.stixgen import indicator


@pytest.mark.parametrize("args,message", [
    (("sightng", "added", 90), "unknown STIX type 'sightng'"),
    (("sighting", "valid_until", 90), "sighting has no property valid_until"),
    (("sighting", "added", -1), "days must be 0 or more"),
    (("sighting", "added", "ninety"), "whole number"),
    (("sighting", "created", 3), "unknown basis"),
    (("sighting", "added", 10**6), "more than"),
])
def test_bad_rules_are_refused_with_the_reason(args: tuple[str, str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_rule(0, *args)


def test_valid_until_basis() -> None:
    rule = parse_rule(0, "indicator", "valid_until", 30)
    assert expires_at(rule, 0, {"valid_until": "2026-01-01T00:00:00Z"}) == 1767225600 * 10**6 + 30 * DAY
    assert expires_at(rule, 0, {}) is None and expires_at(rule, 0, {"valid_until": "soon"}) is None


def _age(store: Store, object_id: str, days: float) -> None:
    """Make the stored versions of an object look ``days`` old (date_added is when it was stored)."""
    from sqlalchemy import update

    from accord.store.tables import objects

    with store.write() as tx:
        tx.conn.execute(update(objects).where(objects.c.id == object_id)
                        .values(date_added=objects.c.date_added - int(days * DAY)))


def _held(store: Store) -> set[str]:
    with store.read() as tx:
        return {i for i, _ in tx.held_versions()}


def test_purge_removes_exactly_what_expired(node: Node) -> None:
    store = node.store
    now = now_micros()
    old_sightings = [sighting(f"indicator--{uuid.uuid4()}", f"s{n}") for n in range(3)]
    new_sightings = [sighting(f"indicator--{uuid.uuid4()}", f"t{n}") for n in range(2)]
    gone_ind = indicator(1, valid_until=micros_to_timestamp(now - 40 * DAY))
    grace_ind = indicator(2, valid_until=micros_to_timestamp(now - 10 * DAY))  # still within its grace
    open_ind = indicator(3)  # no valid_until: never expires by this rule
    note = {"type": "note", "spec_version": "2.1", "id": f"note--{uuid.uuid4()}", "created": "2026-01-01T00:00:00Z",
            "modified": "2026-01-01T00:00:00Z", "content": "kept", "object_refs": [open_ind["id"]]}
    post(store, "energy-co-analyst", [*old_sightings, *new_sightings, gone_ind, grace_ind, open_ind, note])
    for s in old_sightings:
        _age(store, s["id"], 91)
    _age(store, note["id"], 4000)  # no rule for notes: kept whatever its age
    for s in new_sightings:
        _age(store, s["id"], 89)
    retention.set_rule(store, "sighting", 90)
    retention.set_rule(store, "indicator", 30, "valid_until")
    before = _held(store)
    due = {d.rule.type: d for d in retention.status(store, now)}
    assert (due["sighting"].held, due["sighting"].expired, due["sighting"].within_30_days) == (5, 3, 2)
    assert (due["indicator"].held, due["indicator"].expired, due["indicator"].within_30_days) == (3, 1, 1)
    assert _held(store) == before  # status removes nothing
    removed = retention.purge(store, now)
    assert removed == {"default": {"indicator": 1, "sighting": 3}}
    expected = before - {s["id"] for s in old_sightings} - {gone_ind["id"]}
    assert _held(store) == expected
    assert retention.purge(store, now) == {}  # nothing more expired
    with store.read() as tx:
        records = [r.details for r, _ in tx.audit_records() if r.action == "retention.purge"]
    assert sorted((r["type"], r["removed"]) for r in records) == [("indicator", 1), ("sighting", 3)]


def test_a_collection_rule_overrides_the_node_wide_one(node: Node) -> None:
    store = node.store
    admin.create_collection(store, "Long-term", "long", "", "default")
    retention.set_rule(store, "sighting", 90)
    retention.set_rule(store, "sighting", 365, collection="long")
    by_collection = {d.collection: d.rule.days for d in retention.status(store)}
    assert by_collection == {"default": 90, "long": 365}


def test_a_bad_stored_rule_stops_the_start_and_purges_nothing(node: Node) -> None:
    store = node.store
    s = sighting(f"indicator--{uuid.uuid4()}", "x")
    post(store, "energy-co-analyst", [s])
    _age(store, s["id"], 1000)
    with store.write() as tx:  # as a hand edit of the database would
        db.set_retention(tx, 0, "sighting", "added", -1)
    with pytest.raises(InvalidInput, match="retention rule for sighting in every collection"):
        retention.check_config(store)
    with pytest.raises(InvalidInput):
        retention.purge(store)
    assert s["id"] in _held(store)
