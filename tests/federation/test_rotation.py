"""Key rotation: new objects need the peer to register the new key; older objects keep verifying."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from accord.domain.tlp import Tlp
from accord.federation import peers as fed
from accord.federation.runtime import install
from tests.federation.cluster import Node, link, version_of, wait_until
from tests.stixgen import indicator

pytestmark = pytest.mark.e2e


def test_rotation_refresh_and_repair(nodes: Callable[[str], Node]) -> None:
    a, b = nodes("A"), nodes("B")
    link(a, b)
    old = indicator(1, tlp=Tlp.GREEN)
    a.post([old])
    wait_until(lambda: version_of(old) in b.held(), 15, "the first object at B")

    a.stop()
    new_key = fed.rotate_keys(a.store, a.data_dir)
    a.start()
    assert a.fingerprint() == new_key.fingerprint
    fresh = indicator(2, tlp=Tlp.GREEN)
    a.post([fresh])
    wait_until(lambda: _quarantined(b), 15, "B to refuse the unknown key")
    assert version_of(fresh) not in b.held()

    assert fed.refresh_keys(b.store, "A", new_key.fingerprint) == [new_key.key_id]
    install(b.store, b.data_dir)  # verify what the repair pulls, as `accord sync repair` does
    assert fed.repair(b.store, "A") == (1, 1)
    assert version_of(fresh) in b.held()

    c = nodes("C")  # a newcomer registers every key A ever had: old and new objects verify
    link(a, c)
    wait_until(lambda: {version_of(old), version_of(fresh)} <= c.held(), 15, "both objects at C")


def _quarantined(node: Node) -> bool:
    with node.store.read() as tx:
        return any("unknown signer" in row[4] for row in tx.list_quarantine())
