"""The signed view a peer node pulls from reveals nothing the peer may not receive: not in the objects,
not in ``more``, not in the ``next`` token (the same rule as the TAXII objects endpoint, issue 2)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from accord.domain.tlp import Tlp
from tests.federation.cluster import Node, link, pull_key, signed_page
from tests.stixgen import indicator

pytestmark = pytest.mark.e2e


def test_a_long_tail_the_peer_may_not_receive_does_not_show(nodes: Callable[[str], Node]) -> None:
    a, b = nodes("A"), nodes("B")
    link(a, b)
    b_key = pull_key(b, a)  # what B's node presents when it pulls from A

    first = indicator(1, tlp=Tlp.GREEN)
    a.post([first])
    for start in range(0, 5_200, 1_000):  # more than one scan window (5,000) of TLP:RED after it
        a.post([indicator(10_000 + n, tlp=Tlp.RED) for n in range(start, min(start + 1_000, 5_200))])

    page = signed_page(a, b_key, "0", 1000)
    assert [o["id"] for o in page["objects"]] == [first["id"]]
    assert page.get("more") is False and "next" not in page

    last = indicator(2, tlp=Tlp.GREEN)
    a.post([last])
    page = signed_page(a, b_key, "0", 1)
    assert [o["id"] for o in page["objects"]] == [first["id"]] and page["more"] is True
    after_first = page["next"]
    page = signed_page(a, b_key, after_first, 1)  # over the 5,200 RED versions, in one request
    assert [o["id"] for o in page["objects"]] == [last["id"]]
    assert page.get("more") is False and "next" not in page
    # the token only names versions the peer received: asking again from it gives the same page
    assert signed_page(a, b_key, after_first, 1)["objects"] == page["objects"]
