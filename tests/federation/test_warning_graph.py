"""The early-warning stream keeps learning which sectors indicators concern while nobody listens, reading
identities and relationships only, so a listener who subscribes later with a sector filter is served right."""

from __future__ import annotations

from typing import Any

from accord.federation.early_warning import SCAN, Graph, Warnings, derive
from accord.services import admin
from accord.services import objects as svc
from tests.conftest import Node
from tests.stixgen import indicator

T = "2026-01-01T00:00:00.000Z"


def _sdo(kind: str, n: int, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "spec_version": "2.1", "id": f"{kind}--00000000-0000-4000-8000-{n:012d}",
            "created": T, "modified": T, **extra}


def _post(node: Node, objects: list[dict[str, Any]]) -> None:
    principal = admin.principal_for(node.store, admin.ADMIN_ACCOUNT)
    with node.store.read() as tx:
        root = tx.list_api_roots()[0]
    status = svc.add_objects(node.store, principal, root, "default", objects)
    assert status["failure_count"] == 0, status


def _graph_scan(node: Node, after: int) -> tuple[Graph, int]:
    warnings = Warnings.__new__(Warnings)  # only the store and the graph are used by _scan
    warnings.store, warnings.graph = node.store, Graph()
    found, cursor = warnings._scan(after, False)
    assert found == []
    return warnings.graph, cursor


def test_sectors_are_learned_while_nobody_listens(node: Node) -> None:
    hospital = _sdo("identity", 1, name="A hospital", identity_class="organization", sectors=["healthcare"])
    malware = _sdo("malware", 2, name="Ransom", is_family=True)
    ind = indicator(7)
    _post(node, [ind, *[indicator(100 + i) for i in range(5)]])
    _post(node, [hospital, malware,
                 _sdo("relationship", 3, relationship_type="indicates", source_ref=ind["id"], target_ref=malware["id"]),
                 _sdo("relationship", 4, relationship_type="targets", source_ref=malware["id"],
                      target_ref=hospital["id"])])
    _post(node, [indicator(200)])
    with node.store.read() as tx:
        latest = tx.latest_date_added()
        everything = tx.outbound(0, 10_000)

    graph, cursor = _graph_scan(node, 0)
    assert cursor == latest  # past the indicators too, though none of them was read
    assert graph.sectors_of(ind["id"]) == frozenset({"healthcare"})
    assert graph.sectors_of(indicator(100)["id"]) == frozenset()

    # the same knowledge as reading every object, as the stream does when someone listens
    full = Graph()
    with node.store.read() as tx:
        derive(tx, everything, full)
    assert full.sectors == graph.sectors and full.targets == graph.targets and full.indicates == graph.indicates

    # nothing new: the cursor stays
    assert _graph_scan(node, cursor)[1] == cursor


def test_a_long_backlog_is_read_in_windows(node: Node) -> None:
    _post(node, [_sdo("identity", n, name=f"org {n}", identity_class="organization", sectors=["energy"])
                 for n in range(SCAN + 5)])
    graph, cursor = _graph_scan(node, 0)
    assert len(graph.sectors) == SCAN
    with node.store.read() as tx:
        assert cursor < tx.latest_date_added()


def test_a_restarted_stream_knows_the_sectors_stored_before(node: Node) -> None:
    """The graph is learned from the whole store at start, not only from what arrives afterwards."""
    hospital = _sdo("identity", 1, name="A hospital", identity_class="organization", sectors=["healthcare"])
    ind = indicator(7)
    _post(node, [ind, hospital, *[_sdo("identity", 10 + n, name=f"org {n}", identity_class="organization",
                                       sectors=["energy"]) for n in range(SCAN + 3)]])
    _post(node, [_sdo("relationship", 3, relationship_type="targets", source_ref=ind["id"],
                      target_ref=hospital["id"])])
    warnings = Warnings.__new__(Warnings)
    warnings.store, warnings.graph = node.store, Graph()
    with node.store.read() as tx:
        latest = tx.latest_date_added()
    warnings._learn_history(latest)
    assert warnings.graph.sectors_of(ind["id"]) == frozenset({"healthcare"})
    assert len(warnings.graph.sectors) == SCAN + 4  # every window read, past the first
