"""The console's object page on a node that received an object from a real peer node: the origin
signature verifies again from what the store keeps, and a tampered one shows as not verifying."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select, update

from accord.domain.tlp import Tlp
from accord.store.tables import provenance
from tests.federation.cluster import Node, link, version_of, wait_until
from tests.stixgen import indicator
from tests.web.pages import HTML, signed_in_with

pytestmark = pytest.mark.e2e


def test_an_object_from_a_peer_shows_its_verified_provenance(nodes: Callable[[str], Node]) -> None:
    origin, here = nodes("origin"), nodes("here")
    link(origin, here)
    obj = indicator(9, tlp=Tlp.GREEN)
    origin.post([obj])
    wait_until(lambda: version_of(obj) in here.held(), 30, "the indicator at the receiving node")
    with origin.store.read() as tx:
        origin_id = tx.get_org(int(tx.get_setting("host_org") or 0)).identity_id
    with signed_in_with(here.store, here.admin_key) as c:
        page = c.get(f"/objects/{obj['id']}", headers=HTML)
        assert page.status_code == 200, page.text
        section = page.text[page.text.index('id="provenance"'):page.text.index('id="versions"')]
        assert 'data-verified="true"' in section and "Origin signature verified" in section
        assert origin_id and f"<code>{origin_id}</code>" in section
        # one hop, straight from the origin, named by its peer name here
        assert '<ol class="path"><li>origin</li><li>this node</li></ol>' in section
        # a byte of the Ed25519 signature changed in the store: the page says it does not verify
        with here.store.write() as tx:
            row = tx.conn.execute(select(provenance.c.date_added, provenance.c.ed25519)).one()
            forged = row[1][:-1] + bytes([row[1][-1] ^ 1])
            tx.conn.execute(update(provenance).where(provenance.c.date_added == row[0]).values(ed25519=forged))
        page = c.get(f"/objects/{obj['id']}", headers=HTML)
        section = page.text[page.text.index('id="provenance"'):page.text.index('id="versions"')]
        assert 'data-verified="false"' in section
