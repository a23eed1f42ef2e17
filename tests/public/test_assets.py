"""The asset registry on SQLite and PostgreSQL: bad registrations refused or kept as disputes, never
merged; whose asset an address, a domain or a piece of software is."""

from __future__ import annotations

import pytest

from accord.coordination import constituencies
from accord.domain import assets as dom
from accord.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from accord.domain.model import OrgKind
from accord.domain.sharing import Role
from accord.services import admin, assets
from tests.conftest import Node
from tests.coordination.helpers import as_
from tests.public.test_cli import run


@pytest.fixture
def small(node: Node) -> Node:
    for name in ("food-bank", "choir"):
        admin.add_org(node.store, name, OrgKind.NONPROFIT, "DE", ())
    admin.add_account(node.store, "food-bank-volunteer", "food-bank", Role.CONTRIBUTOR)
    admin.grant(node.store, "default", "food-bank", read=True, write=False)  # it reads the declarations
    return node


@pytest.mark.parametrize(("kind", "value", "reason"), [
    ("domain", "exa mple.org", "domain"), ("domain", "-bad-.org", "domain"), ("domain", "a" * 64 + ".org", "domain"),
    ("domain", "", "domain"), ("network", "203.0.113.7/24", "host bits"), ("network", "300.1.1.0/24", "network"),
    ("software", "acme", "CPE 2.3"), ("contact", "not-an-address", "e-mail"), ("contact", "a@b c", "e-mail"),
    ("webhook", "ftp://example.org/", "http"), ("webhook", "https://user:pw@example.org/", "credentials"),
])
def test_invalid_values_are_refused_and_nothing_is_stored(small: Node, kind: str, value: str, reason: str) -> None:
    admin_ = admin.principal_for(small.store, "admin")
    with pytest.raises(InvalidInput, match=f"{kind} .*{reason}"):
        assets.add(small.store, admin_, "food-bank", {"domain": ["food.example"], kind: [value]})
    with pytest.raises(NotFound):
        assets.show(small.store, "food-bank")


def test_register_overlaps_refused_or_disputed_never_merged(small: Node) -> None:
    store = small.store
    principal = admin.principal_for(store, "admin")
    got = assets.add(store, principal, "food-bank", {"network": ["198.51.100.0/24"], "domain": ["Food.Example."],
                                                     "software": ["Acme:R1"], "contact": ["Help@Food.Example"]},
                     language="fr")
    assert got.language == "fr" and got.covered_by == "host-cert"
    assert {(a.kind, a.value) for a in got.assets} == {("network", "198.51.100.0/24"), ("domain", "food.example"),
                                                       ("software", "acme:r1"), ("contact", "Help@food.example")}
    with pytest.raises(Conflict, match="overlaps 198.51.100.0/24, registered by food-bank"):
        assets.add(store, principal, "choir", {"network": ["198.51.100.128/25"]})
    with pytest.raises(Conflict, match="overlaps food.example"):
        assets.add(store, principal, "choir", {"domain": ["www.food.example"], "network": ["192.0.2.0/24"]})
    assert assets.list_all(store)[0].org == "food-bank" and len(assets.list_all(store)) == 1  # all or nothing
    choir = assets.add(store, principal, "choir", {"network": ["198.51.100.128/25", "192.0.2.0/24"]}, disputed=True)
    assert [(a.value, a.disputed) for a in choir.assets] == [("192.0.2.0/24", False), ("198.51.100.128/25", True)]
    [dispute] = assets.disputes(store)
    assert (dispute.first.org, dispute.second.org, dispute.overlap) == ("food-bank", "choir", "198.51.100.128/25")
    registry = assets.registry(store)
    assert registry.owners("198.51.100.7") == ("food-bank",)
    assert registry.owners("198.51.100.200") == ()  # in the dispute: nobody is told
    assert registry.owners("192.0.2.1") == ("choir",) and registry.owners("www.food.example") == ("food-bank",)
    assert registry.owners("other.example") == () and registry.owners("not a query") == ()
    assert registry.running("cpe:2.3:a:acme:r1:2.0:*:*:*:*:*:*:*") == ("food-bank",)
    assets.remove(store, principal, "choir", {"network": ["198.51.100.128/25"]})
    assert assets.disputes(store) == [] and assets.registry(store).owners("198.51.100.200") == ("food-bank",)
    with pytest.raises(NotFound, match="has no network"):
        assets.remove(store, principal, "choir", {"network": ["198.51.100.128/25"]})
    with store.read() as tx:
        records = [r.details for r, _ in tx.audit_records() if r.action.startswith("asset.")]
    assert ["contact", "(contact)", False] in records[0]["added"]  # no personal data in the log
    assert "Help@food.example" not in str(records)


def test_who_may_register_and_the_covering_partner(small: Node) -> None:
    store = small.store
    constituencies.declare(as_(store, "energy-co-analyst"), ["203.0.113.0/24"])
    volunteer = admin.principal_for(store, "food-bank-volunteer")
    got = assets.add(store, volunteer, "food-bank", {"network": ["203.0.113.64/26"]})
    assert got.covered_by == "energy-co"  # its range is in energy-co's declared constituency
    with pytest.raises(NotAllowed, match="another organisation's assets"):
        assets.add(store, volunteer, "choir", {"domain": ["choir.example"]})
    principal = admin.principal_for(store, "admin")
    assert assets.add(store, principal, "choir", {"domain": ["choir.example"]}, covered_by="health-isac"
                      ).covered_by == "health-isac"
    with pytest.raises(InvalidInput, match="language tag"):
        assets.add(store, principal, "choir", {}, language="klingon!")


def test_disputes_between_domains_and_the_pure_registry() -> None:
    a = dom.Asset("a", "domain", "example.org")
    b = dom.Asset("b", "domain", "shop.example.org", disputed=True)
    c = dom.Asset("c", "network", "2001:db8::/32")
    d = dom.Asset("d", "network", "2001:db8:1::/48", disputed=True)
    e = dom.Asset("e", "network", "10.0.0.0/8")
    registry = dom.Registry([a, b, c, d, e])
    assert [(x.first.org, x.second.org, x.overlap) for x in registry.disputes()] == [
        ("a", "b", "shop.example.org"), ("c", "d", "2001:db8:1::/48")]
    assert registry.owners("www.shop.example.org") == () and registry.owners("www.example.org") == ("a",)
    assert registry.owners("2001:db8:2::1") == ("c",) and registry.owners("2001:db8:1::1") == ()
    assert dom.disputes_with(dom.Asset("f", "network", "10.1.0.0/16"), [a, e])[0].first == e


def test_the_asset_commands(tmp_path: object) -> None:
    d = ["--data-dir", str(tmp_path), "--json"]
    run("init", "--org", "cert-de", "--country", "DE", *d)
    run("org", "add", "food-bank", "--kind", "nonprofit", "--country", "DE", *d)
    run("org", "add", "choir", "--kind", "nonprofit", "--country", "DE", *d)
    got = run("asset", "add", "food-bank", "--network", "198.51.100.0/24", "--contact", "help@food.example",
              "--language", "de", *d)
    assert got["language"] == "de" and got["covered_by"] == "cert-de" and len(got["assets"]) == 2
    assert "registered by food-bank: refused" in run("asset", "add", "choir", "--network", "198.51.100.0/25", *d,
                                                     ok=False)
    run("asset", "add", "choir", "--network", "198.51.100.0/25", "--disputed", *d)
    [dispute] = run("asset", "disputes", *d)
    assert dispute["overlap"] == "198.51.100.0/25" and [c["org"] for c in dispute["claims"]] == ["food-bank", "choir"]
    assert [r["org"] for r in run("asset", "list", *d)] == ["choir", "food-bank"]
    run("asset", "remove", "choir", "--network", "198.51.100.0/25", *d)
    assert run("asset", "disputes", *d) == []
