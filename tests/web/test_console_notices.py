"""Notices and the asset registry in the console (issue 18), in process on both backends: the
covering partner sees its constituents' notices and which are unacknowledged; registrations are
all or nothing, overlaps refused next to the field or kept as disputes, never merged; each account
sees only the registrations it registers or covers."""

from __future__ import annotations

from accord.domain.model import OrgKind
from accord.domain.sharing import Role
from accord.services import admin, advisories, assets, notices
from tests.conftest import Node
from tests.public.helpers import content
from tests.public.test_notices import register, sighting
from tests.web.console_pages import linked_messages
from tests.web.pages import HTML, csrf, signed_in


def test_the_covering_partner_sees_the_notices_and_what_is_unacknowledged(node: Node) -> None:
    register(node.store)  # food-bank, covered by the host (no constituency declares its range)
    sighting(node, "198.51.100.20", 1)
    notices.scan(node.store)
    [made] = notices.digest(node.store)
    with signed_in(node, "admin") as host, signed_in(node, "health-isac") as other:
        page = host.get("/notices", headers=HTML).text
        waiting = host.get("/notices?unacknowledged=1", headers=HTML).text
        elsewhere = other.get("/notices", headers=HTML).text
    assert [n["id"] for n in notices.for_partner(node.store, admin.principal_for(node.store, "admin"))] == [made]
    assert "food-bank" in page and "198.51.100.20" in page and "<strong>1</strong> of 1 not acknowledged" in page
    assert 'lang="fr"' in page and "e-mail: <span class=\"warn\">pending</span>" in page
    assert "198.51.100.20" in waiting
    assert "food-bank" not in elsewhere and "No notice" in elsewhere
    assert 'href="/assets/food-bank"' in page  # the organisation's registration, to call it


def test_an_acknowledged_notice_leaves_the_unacknowledged_view(node: Node) -> None:
    register(node.store)
    sighting(node, "198.51.100.21", 2)
    notices.scan(node.store)
    [made] = notices.digest(node.store)
    with node.store.write() as tx:
        tx.acknowledge_notice(made, 1)
    with signed_in(node, "admin") as host:
        everything = host.get("/notices", headers=HTML).text
        waiting = host.get("/notices?unacknowledged=1", headers=HTML).text
    assert "198.51.100.21" in everything and "<strong>0</strong> of 1" in everything
    assert "198.51.100.21" not in waiting and "No notice waiting" in waiting


def test_register_then_an_overlap_is_refused_next_to_the_field_or_kept_as_a_dispute(node: Node) -> None:
    for org in ("food-bank", "choir"):
        admin.add_org(node.store, org, OrgKind.NONPROFIT, "FR", ())
    with signed_in(node, "admin") as host:
        token = csrf(host, "/assets/food-bank")
        r = host.post("/assets/food-bank", headers=HTML, data={
            "csrf": token, "kind": "network", "values": "198.51.100.0/24\n203.0.113.0/25", "language": "fr"})
        assert r.status_code == 303 and r.headers["location"] == "/assets/food-bank?added=1"
        overlap = host.post("/assets/choir", headers=HTML,
                            data={"csrf": token, "kind": "network", "values": "198.51.100.128/25"})
        bad = host.post("/assets/choir", headers=HTML,
                        data={"csrf": token, "kind": "domain", "values": "choir.example\nnot a domain"})
        lang = host.post("/assets/choir", headers=HTML,
                         data={"csrf": token, "kind": "domain", "values": "choir.example", "language": "french"})
        assert assets.list_all(node.store)[0].org == "food-bank" and len(assets.list_all(node.store)) == 1
        kept = host.post("/assets/choir", headers=HTML, data={
            "csrf": token, "kind": "network", "values": "198.51.100.128/25", "disputed": "on"})
        registry = host.get("/assets", headers=HTML).text
        choir = host.get("/assets/choir", headers=HTML).text
        removed = host.post("/assets/choir/remove", headers=HTML,
                            data={"csrf": token, "kind": "network", "value": "198.51.100.128/25"})
        gone = host.post("/assets/choir/remove", headers=HTML,
                         data={"csrf": token, "kind": "network", "value": "198.51.100.128/25"})
    assert overlap.status_code == 409 and 'aria-describedby="values-error"' in overlap.text
    assert any("registered by food-bank" in m and "disputed" in m for m in linked_messages(overlap.text))
    assert "198.51.100.128/25" in overlap.text  # what was typed comes back
    assert bad.status_code == 400 and any("not a domain" in m for m in linked_messages(bad.text))
    assert lang.status_code == 400 and 'aria-describedby="language-error"' in lang.text
    assert kept.status_code == 303
    assert "<code>198.51.100.128/25</code> by <a href=\"/assets/choir\">choir</a>" in registry
    assert "<code>198.51.100.0/24</code> by <a href=\"/assets/food-bank\">food-bank</a>" in registry
    assert '<span class="bad">disputed</span>' in choir
    assert removed.status_code == 303 and assets.disputes(node.store) == []
    assert gone.status_code == 404 and 'role="alert"' in gone.text


def test_each_account_sees_what_it_registers_or_covers(node: Node) -> None:
    store = node.store
    admin.add_org(store, "food-bank", OrgKind.NONPROFIT, "FR", ())
    admin.add_org(store, "choir", OrgKind.NONPROFIT, "FR", ())
    host = admin.principal_for(store, "admin")
    assets.add(store, host, "food-bank", {"contact": ["help@food.example"]}, covered_by="health-isac")
    assets.add(store, host, "choir", {"contact": ["sing@choir.example"]})
    admin.add_account(store, "choir-volunteer", "choir", Role.CONTRIBUTOR)
    with signed_in(node, "health-isac") as isac, signed_in(node, "energy-co") as energy, \
            signed_in(node, "energy-co-reader") as reader:
        covered = isac.get("/assets", headers=HTML).text
        mine = isac.get("/assets/food-bank", headers=HTML)
        not_mine = isac.get("/assets/choir", headers=HTML)
        unknown = isac.get("/assets/no-such-org", headers=HTML)
        sneaky = isac.post("/assets/choir", headers=HTML,
                           data={"csrf": csrf(isac, "/assets"), "kind": "domain", "values": "evil.example"})
        own = energy.get("/assets/energy-co", headers=HTML)
        nothing = reader.get("/assets", headers=HTML).text
    assert "food-bank" in covered and "choir" not in covered and "sing@choir.example" not in covered
    assert mine.status_code == 200 and "help@food.example" in mine.text
    assert 'action="/assets/food-bank"' not in mine.text  # covering is not registering
    assert not_mine.status_code == unknown.status_code == 404 and not_mine.text == unknown.text
    assert sneaky.status_code == 404 and "evil.example" not in str(assets.show(store, "choir").as_dict())
    assert own.status_code == 200 and 'action="/assets/energy-co"' in own.text  # its own, not yet registered
    assert "No registration you may see" in nothing and "Register assets for" not in nothing


def test_the_dashboard_counts_drafts_to_review_and_notices_not_acknowledged(node: Node) -> None:
    register(node.store)
    sighting(node, "198.51.100.22", 1)
    notices.scan(node.store)
    notices.digest(node.store)
    advisories.draft(node.store, admin.principal_for(node.store, "admin"), content())
    with signed_in(node, "admin") as host, signed_in(node, "health-isac") as other, \
            signed_in(node, "energy-co-reader") as reader:
        mine, theirs, readers = (c.get("/", headers=HTML).text for c in (host, other, reader))
    assert '<strong id="drafts">1</strong> advisory draft waiting' in mine
    assert '<strong id="unacknowledged">1</strong> notice to organisations you cover' in mine
    assert "No advisory draft waiting" in theirs and 'id="unacknowledged"' not in theirs  # not its draft, not its
    assert "advisory draft" not in readers
