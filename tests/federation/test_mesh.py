"""A full mesh of five real nodes: every entitled node gets every object once, loops end, RED stays."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable

import pytest

from accord.domain.tlp import Tlp
from tests.federation.cluster import Node, link, version_of, wait_until
from tests.federation.conftest import BOTH_BACKENDS
from tests.stixgen import indicator

pytestmark = pytest.mark.e2e


@BOTH_BACKENDS
def test_mesh_of_five_converges_without_loops(nodes: Callable[[str], Node]) -> None:
    mesh = [nodes(f"N{i}") for i in range(5)]
    for x, y in itertools.combinations(mesh, 2):
        link(x, y)
    from_0 = [indicator(n, tlp=Tlp.GREEN) for n in range(20)]
    from_3 = [indicator(n, tlp=Tlp.CLEAR) for n in range(100, 110)]
    red = indicator(500, tlp=Tlp.RED)
    mesh[0].post(from_0 + [red])
    mesh[3].post(from_3)
    shared = {version_of(o) for o in from_0 + from_3}
    for node in mesh:
        wait_until(lambda node=node: shared <= node.held(), 30, f"everything at {node.name}")
    for node in mesh[1:]:
        assert version_of(red) not in node.held()
        with node.store.read() as tx:
            counts = Counter((r.id, r.version) for r in tx.outbound(0, 10_000))
        assert set(counts) == shared and max(counts.values()) == 1
    with mesh[2].store.read() as tx:  # relays carried the origin's signature: every row has provenance
        assert all(r.signature is not None for r in tx.outbound(0, 10_000))
