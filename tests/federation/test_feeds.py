"""A node pulls from a plain TAXII 2.1 server (medallion 3.0.0) and shares what it pulled, signed."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import httpx
import pytest

from accord.domain.tlp import Tlp
from accord.federation import peers as fed
from accord.federation.model import PeerKind
from tests.federation.cluster import ALL_SHAREABLE, Node, link, version_of, wait_until
from tests.medallion import medallion
from tests.stixgen import indicator

pytestmark = pytest.mark.e2e
COLLECTION = "5f0b3a1e-7d6c-4b8e-9a2f-3c1d0e9b8a71"
USER = ("feeder", "s3cret")


@pytest.fixture
def medallion_root() -> Iterator[str]:
    with medallion(COLLECTION, {USER[0]: USER[1]}, page_size=3) as m:
        yield m.root


def test_pull_from_medallion_and_relay_signed(nodes: Callable[[str], Node], medallion_root: str) -> None:
    a, b = nodes("A"), nodes("B")
    link(a, b)
    fed.add_peer(a.store, "feed", medallion_root, PeerKind.FEED, None, ["default"], ALL_SHAREABLE, [],
                 COLLECTION, "", f"{USER[0]}:{USER[1]}")
    objects = [indicator(n, tlp=Tlp.GREEN) for n in range(7)]
    resp = httpx.post(f"{medallion_root}collections/{COLLECTION}/objects/", auth=USER,
                      headers={"Content-Type": "application/taxii+json;version=2.1",
                               "Accept": "application/taxii+json;version=2.1"},
                      content=json.dumps({"objects": objects}), timeout=10)
    assert resp.status_code == 202
    wanted = {version_of(o) for o in objects}
    wait_until(lambda: wanted <= a.held(), 30, "A to pull the feed (pages of 3)")
    wait_until(lambda: wanted <= b.held(), 15, "B to receive the feed's objects from A")
    with b.store.read() as tx:
        origins = {r.signature.origin for r in tx.outbound(0, 100) if r.signature is not None}
        peer_a = tx.find_peer("A")
    assert peer_a is not None and origins == {peer_a.node_id}  # A vouches for what it pulled
    more = indicator(50, tlp=Tlp.GREEN)
    httpx.post(f"{medallion_root}collections/{COLLECTION}/objects/", auth=USER,
               headers={"Content-Type": "application/taxii+json;version=2.1",
                        "Accept": "application/taxii+json;version=2.1"},
               content=json.dumps({"objects": [more]}), timeout=10)
    wait_until(lambda: version_of(more) in a.held(), 30, "the next poll to fetch only what is new")
    assert len(a.held()) == 8
