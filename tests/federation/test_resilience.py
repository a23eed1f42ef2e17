"""Nothing lost, nothing duplicated: a peer down for a while, and kill -9 in the middle of a sync."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from accord.domain.tlp import Tlp
from accord.federation import peers as fed
from tests.federation.cluster import Node, link, version_of, wait_until
from tests.federation.conftest import BOTH_BACKENDS
from tests.stixgen import indicator

pytestmark = pytest.mark.e2e


def _no_duplicates(node: Node) -> None:
    with node.store.read() as tx:
        rows = tx.outbound(0, 1_000_000)
    counts = Counter((r.id, r.version) for r in rows)
    assert counts and max(counts.values()) == 1


@BOTH_BACKENDS
def test_a_peer_that_was_down_catches_up_exactly(nodes: Callable[[str], Node]) -> None:
    a, b = nodes("A"), nodes("B")
    link(a, b)
    first = [indicator(n, tlp=Tlp.GREEN) for n in range(50)]
    a.post(first)
    wait_until(lambda: len(b.held()) == 50, 20, "the first 50 at B")
    b.stop()
    later = [indicator(n, tlp=Tlp.GREEN) for n in range(50, 350)]
    for start in range(0, len(later), 100):
        assert a.post(later[start:start + 100])["success_count"] == 100
    wait_until(lambda: (fed.sync_status(a.store, check=False)[0]["last_error"] or "").startswith(("Connect",
                                                                                                "HTTP")),
               20, "A to notice that B is down")
    b.start()
    wanted = {version_of(o) for o in first + later}
    wait_until(lambda: b.held() == wanted, 30, "B to catch up")
    _no_duplicates(b)
    # B may hold everything (it also pulls) while A's push still waits out its back-off (at most
    # MAX_BACKOFF): the outbox must drain, not necessarily at the same instant.
    wait_until(lambda: fed.sync_status(a.store, check=False)[0]["queue"] == 0, 20, "A's outbox to B to drain")


@BOTH_BACKENDS
def test_kill_9_mid_sync_loses_no_acknowledged_object(nodes: Callable[[str], Node]) -> None:
    a, b = nodes("A"), nodes("B")
    link(a, b)
    objects = [indicator(n, tlp=Tlp.GREEN) for n in range(2000)]
    acknowledged: set[tuple[str, str]] = set()
    for start in range(0, 1000, 250):
        status = a.post(objects[start:start + 250])
        acknowledged |= {version_of(o) for o in objects[start:start + 250]}
        assert status["success_count"] == 250
    wait_until(lambda: len(b.held()) > 0, 20, "the sync to start")
    b.kill9()  # the receiver dies mid-stream ...
    for start in range(1000, 2000, 250):
        assert a.post(objects[start:start + 250])["success_count"] == 250
        acknowledged |= {version_of(o) for o in objects[start:start + 250]}
    a.kill9()  # ... and then the sender, with its outbox full
    a.start()
    b.start()
    wait_until(lambda: b.held() == acknowledged, 60, "every acknowledged object at B")
    _no_duplicates(b)
    rows = {r["peer"]: r for r in fed.sync_status(b.store, check=True)}
    assert rows["A"]["agree"] is True
