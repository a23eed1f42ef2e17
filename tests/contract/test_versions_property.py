"""Property: however versions of an object arrive (any order, split over envelopes, repeated,
corrected under the same 'modified'), first/last/all answer as if they had arrived sorted."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.services import admin
from accord.services import objects as svc
from accord.store.objects import ObjectFilter, VersionFilter
from accord.store.repository import Store
from tests.conftest import Node
from tests.stixgen import indicator

MONTHS = [f"2026-{m:02d}-01T00:00:00.000Z" for m in range(1, 10)]


def _versions(store: Store, node: Node, which: VersionFilter) -> list[dict[str, Any]]:
    principal = admin.principal_for(store, "energy-co-analyst")
    with store.read() as tx:
        root = tx.list_api_roots()[0]
    return svc.readable_objects(store, principal, root, "default", ObjectFilter(versions=which), "test")


arrivals = st.lists(st.tuples(st.sampled_from(MONTHS), st.sampled_from(["a", "b"])), min_size=1, max_size=12)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(arrivals, st.integers(1, 4))
def test_version_flags_follow_modified(node: Node, arrival: list[tuple[str, str]], split: int) -> None:
    object_id = f"indicator--{uuid.uuid4()}"
    principal = admin.principal_for(node.store, "energy-co-analyst")
    with node.store.read() as tx:
        root = tx.list_api_roots()[0]
    objs = [indicator(1, object_id=object_id, modified=m, name=f"v {m} {tag}") for m, tag in arrival]
    for start in range(0, len(objs), split):
        status = svc.add_objects(node.store, principal, root, "default", objs[start:start + split])
        assert status["failure_count"] == 0
    final: dict[str, dict[str, Any]] = {}
    for obj in objs:  # the last content sent under each 'modified' wins
        final[obj["modified"]] = obj
    ordered = [final[m] for m in sorted(final)]

    def mine(which: VersionFilter) -> list[dict[str, Any]]:
        return [o for o in _versions(node.store, node, which) if o["id"] == object_id]

    assert mine(VersionFilter()) == [ordered[-1]]
    assert mine(VersionFilter(first=True, last=False)) == [ordered[0]]
    assert sorted(mine(VersionFilter(all=True)), key=lambda o: o["modified"]) == ordered
