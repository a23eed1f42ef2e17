"""A disabled peer receives nothing while disabled and, once enabled again, everything it missed:
the push cursor does not move past versions while the peer is disabled (nothing lost while a peer
is down, disabled included). On the code before, the cursor moved over every version selected for
the disabled peer (it was entitled to none), so they were never sent after enabling."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from accord.domain.tlp import Tlp
from accord.services import admin
from tests.federation.cluster import Node, link, version_of, wait_until
from tests.stixgen import indicator

pytestmark = pytest.mark.e2e


def test_a_disabled_peer_gets_what_it_missed_once_enabled(nodes: Callable[[str], Node]) -> None:
    a, b = nodes("A"), nodes("B")
    link(a, b)
    a.post([indicator(1, tlp=Tlp.GREEN)])
    wait_until(lambda: version_of(indicator(1)) in b.held(), 30, "the first push to B")
    admin.set_peer_enabled(a.store, "B", False)
    time.sleep(2.5)  # the pusher reloads its peer every RELOAD_SECONDS (2 s)
    missed = indicator(2, tlp=Tlp.GREEN)
    a.post([missed])
    time.sleep(4)
    assert version_of(missed) not in b.held()
    admin.set_peer_enabled(a.store, "B", True)
    wait_until(lambda: version_of(missed) in b.held(), 30, "what B missed while disabled")
