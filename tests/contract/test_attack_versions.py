"""MITRE ATT&CK for ICS 17.1 then 18.0: latest versions, full histories, objects served back unchanged."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from accord.services import admin
from accord.services import objects as svc
from accord.store.objects import ObjectFilter, VersionFilter
from accord.store.repository import Store
from tests.conftest import Node, shared_data


def _bundle(name: str) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = orjson.loads(shared_data("attack", name).read_bytes())["objects"]
    return objects


def _all_pages(store: Store, node_principal: Any, flt: ObjectFilter) -> list[dict[str, Any]]:
    root = next(iter(store_roots(store)))
    out: list[dict[str, Any]] = []
    token = None
    while True:
        page = svc.get_objects(store, node_principal, root, "default", flt, token, 1000)
        out += [orjson.loads(v.body) for v in page.versions]
        if not page.more:
            return out
        token = page.next


def store_roots(store: Store) -> list[Any]:
    with store.read() as tx:
        return tx.list_api_roots()


@pytest.mark.slow
def test_attack_17_then_18(node: Node) -> None:
    old, new = _bundle("ics-attack-17.1.json"), _bundle("ics-attack-18.0.json")
    principal = admin.principal_for(node.store, "admin")
    assert admin.load_bundle(node.store, principal, "default", old)[1] == []
    assert admin.load_bundle(node.store, principal, "default", new)[1] == []

    latest = {o["id"]: o for o in _all_pages(node.store, principal, ObjectFilter())}
    # The right latest version of each id: the one with the greatest modified; on a tie, the later
    # release (MITRE changed 70 objects in 18.0 without a new 'modified').
    want: dict[str, dict[str, Any]] = {}
    for obj in old + new:
        key = obj.get("modified", obj.get("created"))
        if obj["id"] not in want or key >= want[obj["id"]].get("modified", want[obj["id"]].get("created")):
            want[obj["id"]] = obj
    assert latest.keys() == want.keys()
    assert all(latest[i] == want[i] for i in want)  # JSON-equal: nothing added, nothing lost
    revoked = [o for o in latest.values() if o.get("revoked")]
    assert revoked and all(want[o["id"]].get("revoked") for o in revoked)

    history = _all_pages(node.store, principal, ObjectFilter(versions=VersionFilter(all=True, last=False)))
    versions: dict[str, set[str]] = {}
    for o in history:
        versions.setdefault(o["id"], set()).add(o.get("modified", o.get("created")))
    for obj in old + new:
        assert obj.get("modified", obj.get("created")) in versions[obj["id"]]
    changed = [i for i in versions if len(versions[i]) > 1]
    assert len(changed) == 77  # ids with a new 'modified' in 18.0
    first = {o["id"]: o for o in _all_pages(node.store, principal, ObjectFilter(versions=VersionFilter(
        first=True, last=False)))}
    old_by_id = {o["id"]: o for o in old}
    for i in changed:
        assert first[i]["modified"] == old_by_id[i]["modified"]
