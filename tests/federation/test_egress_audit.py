"""What leaves a node for a peer node is on its audit record, as every TAXII read is: each envelope
pushed and each signed-pull page served, naming the peer and the (id, version) pairs that are not
TLP:CLEAR, one record per envelope or page."""

from __future__ import annotations

from collections.abc import Callable

import orjson
import pytest
from click.testing import CliRunner

from accord.cli import cli
from accord.domain.tlp import Tlp
from accord.store.audit import PULL, PUSH, Egress
from tests.federation.cluster import Node, link, pull_key, signed_page, version_of, wait_until
from tests.federation.conftest import BOTH_BACKENDS
from tests.stixgen import indicator

pytestmark = pytest.mark.e2e


def _egress(node: Node, peer: str | None = None, object_id: str | None = None) -> list[Egress]:
    with node.store.read() as tx:
        return tx.egress(peer, object_id)


def _delivered(a: Node, peer: str) -> bool:
    """Whether a's push cursor to ``peer`` is past everything a holds (the audit record of what was
    pushed is written in the same transaction as the cursor)."""
    with a.store.read() as tx:
        found = tx.find_peer(peer)
        return found is not None and found.push_cursor >= tx.latest_date_added()


@BOTH_BACKENDS
def test_a_push_is_recorded_per_peer_and_object_and_clear_only_is_not(nodes: Callable[[str], Node]) -> None:
    a, b = nodes("A"), nodes("B")
    link(a, b)
    a.post([indicator(1, tlp=Tlp.CLEAR)])
    wait_until(lambda: _delivered(a, "B"), 30, "the TLP:CLEAR push to B")
    assert _egress(a) == []  # CLEAR only: nothing recorded, as for a TAXII read

    amber, green = indicator(2, tlp=Tlp.AMBER), indicator(3, tlp=Tlp.GREEN)
    a.post([amber, green, indicator(4, tlp=Tlp.CLEAR)])
    wait_until(lambda: bool(_egress(a)), 30, "the push to B on A's audit log")
    [record] = _egress(a, peer="B")
    assert record.action == PUSH and record.peer == "B"
    assert sorted(record.objects) == sorted([(amber["id"], amber["modified"]), (green["id"], green["modified"])])
    assert [(r.peer, r.objects) for r in _egress(a, object_id=amber["id"])] == [
        ("B", [(amber["id"], amber["modified"])])]
    assert _egress(a, peer="C") == []
    assert version_of(amber) in b.held()
    where = ["--data-dir", str(a.data_dir), *(["--database-url", a.database_url] if a.database_url else [])]
    shown = CliRunner().invoke(cli, ["audit", "egress", "--object", green["id"], "--json", *where],
                               catch_exceptions=False)
    assert [(r["action"], r["peer"], r["id"], r["version"]) for r in orjson.loads(shown.stdout)] == [
        (PUSH, "B", green["id"], green["modified"])]


def test_each_signed_pull_page_served_is_recorded(nodes: Callable[[str], Node]) -> None:
    a, b = nodes("A"), nodes("B")
    link(a, b)
    b_key = pull_key(b, a)  # what B's node presents when it pulls from A
    clear = indicator(1, tlp=Tlp.CLEAR)
    amber = [indicator(n, tlp=Tlp.AMBER) for n in (2, 3, 4)]
    a.post([clear])
    a.post(amber)

    first = signed_page(a, b_key, "0", 1)
    assert [o["id"] for o in first["objects"]] == [clear["id"]]
    assert [r for r in _egress(a) if r.action == PULL] == []  # a CLEAR page: nothing recorded
    second = signed_page(a, b_key, first["next"], 2)
    third = signed_page(a, b_key, second["next"], 2)
    assert [o["id"] for o in second["objects"] + third["objects"]] == [o["id"] for o in amber]

    pulls = [r for r in _egress(a, peer="B") if r.action == PULL]
    assert [r.objects for r in pulls] == [[(o["id"], o["modified"]) for o in amber[:2]],
                                          [(amber[2]["id"], amber[2]["modified"])]]
    with a.store.read() as tx:
        [record] = [r for r, _ in tx.audit_records() if r.seq == pulls[0].seq]
        b_at_a = tx.find_peer("B")
    assert b_at_a is not None and record.org_id == b_at_a.org_id and record.account_id is not None
