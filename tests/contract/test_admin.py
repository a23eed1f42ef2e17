"""Administration on every backend: disabling and removing accounts, organisations and peers, key
expiry, grants, group membership; each change in the audit log, no stored object orphaned."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import inspect

from accord.cli.common import open_node
from accord.config import Settings
from accord.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound, Unauthenticated
from accord.domain.model import OrgKind
from accord.domain.sharing import Role
from accord.domain.tlp import Tlp
from accord.federation import peers as fed
from accord.federation.model import PeerKind
from accord.services import admin, auth
from accord.stix.timestamps import now_micros
from accord.store.repository import Store
from tests.conftest import Node
from tests.pgserver import PgServer
from tests.stixgen import indicator


def bearer(key: str) -> str:
    return f"Bearer {key}"


def actions(store: Store) -> list[str]:
    with store.read() as tx:
        return [record.action for record, _ in tx.audit_records()]


def store_one(node: Node, account: str, n: int) -> None:
    principal = admin.principal_for(node.store, account)
    _, failures = admin.load_bundle(node.store, principal, "default", [indicator(n)])
    assert failures == []


def test_an_expired_key_stops_authenticating(node: Node) -> None:
    with node.store.write() as tx:
        account = tx.account_id("energy-co-analyst")
        _, expired = auth.issue_key(tx, account, expires=now_micros() - 1)
        _, current = auth.issue_key(tx, account, expires=now_micros() + 3_600_000_000)
    with pytest.raises(Unauthenticated, match="expired"):
        auth.authenticate(node.store, bearer(expired))
    assert auth.authenticate(node.store, bearer(current)).account_name == "energy-co-analyst"


def test_a_key_issued_with_an_expiry_records_it(node: Node) -> None:
    when = admin.parse_expiry("90d")
    key_id, key = admin.issue_key(node.store, "energy-co-analyst", when)
    listed = {k["key_id"]: k for k in admin.list_keys(node.store)}
    assert listed[key_id]["expires"] is not None and listed[key_id]["expired"] is False
    assert auth.authenticate(node.store, bearer(key)).account_name == "energy-co-analyst"
    assert "admin.issue_key" in actions(node.store)


def test_parse_expiry() -> None:
    now = 1_700_000_000_000_000
    day = 86_400_000_000
    assert admin.parse_expiry("90d", now) == now + 90 * day
    assert admin.parse_expiry("12h", now) == now + day // 2
    assert admin.parse_expiry("2w", now) == now + 14 * day
    assert admin.parse_expiry("2030-01-01", now) == 1_893_456_000_000_000
    assert admin.parse_expiry("2030-01-01T12:00:00Z", now) == 1_893_456_000_000_000 + day // 2
    for bad in ("yesterday", "-3d", "0d", "2001-01-01", ""):
        with pytest.raises(InvalidInput):
            admin.parse_expiry(bad, now)


def test_a_disabled_account_cannot_authenticate_until_enabled(node: Node) -> None:
    admin.set_account_enabled(node.store, "energy-co-analyst", False)
    with pytest.raises(Unauthenticated, match="account is disabled"):
        auth.authenticate(node.store, bearer(node.keys["energy-co"]))
    with pytest.raises(NotAllowed):
        admin.principal_for(node.store, "energy-co-analyst")
    assert auth.authenticate(node.store, bearer(node.keys["energy-co-reader"])).account_name == "energy-co-reader"
    admin.set_account_enabled(node.store, "energy-co-analyst", True)
    assert auth.authenticate(node.store, bearer(node.keys["energy-co"])).account_name == "energy-co-analyst"
    assert actions(node.store)[-2:] == ["admin.disable_account", "admin.enable_account"]


def test_a_disabled_organisation_neither_authenticates_nor_reads(node: Node) -> None:
    with node.store.read() as tx:
        org = tx.get_org("energy-co")
        assert tx.access_of(org.id)
    admin.set_org_enabled(node.store, "energy-co", False)
    for key in ("energy-co", "energy-co-reader"):
        with pytest.raises(Unauthenticated, match="organisation is disabled"):
            auth.authenticate(node.store, bearer(node.keys[key]))
    with node.store.read() as tx:
        assert tx.access_of(org.id) == {}
    admin.set_org_enabled(node.store, "energy-co", True)
    assert auth.authenticate(node.store, bearer(node.keys["energy-co"])).org_id == org.id
    assert actions(node.store)[-2:] == ["admin.disable_org", "admin.enable_org"]


def test_the_host_organisation_and_admin_account_cannot_be_disabled_or_removed(node: Node) -> None:
    with pytest.raises(NotAllowed):
        admin.set_org_enabled(node.store, "host-cert", False)
    with pytest.raises(NotAllowed):
        admin.remove_org(node.store, "host-cert")
    with pytest.raises(NotAllowed):
        admin.set_account_enabled(node.store, "admin", False)
    with pytest.raises(NotAllowed):
        admin.remove_account(node.store, "admin")


def test_removing_an_account_deletes_its_keys_and_keeps_what_it_stored(node: Node) -> None:
    store_one(node, "energy-co-analyst", 1)
    key_id = node.keys["energy-co"].split("_")[1]
    admin.remove_account(node.store, "energy-co-analyst")
    with pytest.raises(Unauthenticated):
        auth.authenticate(node.store, bearer(node.keys["energy-co"]))
    assert key_id not in {k["key_id"] for k in admin.list_keys(node.store)}
    assert "energy-co-analyst" not in {a["name"] for a in admin.list_accounts(node.store)}
    with node.store.read() as tx:
        assert tx.objects_owned(tx.get_org("energy-co").id) == 1
    assert actions(node.store)[-1] == "admin.remove_account"


def test_an_organisation_that_owns_objects_is_not_removed(node: Node) -> None:
    store_one(node, "energy-co-analyst", 1)
    with pytest.raises(Conflict, match="owns 1 stored object version"):
        admin.remove_org(node.store, "energy-co")
    assert "energy-co" in {o["name"] for o in admin.node_status(node.store)["organisations"]}


def test_removing_an_organisation_removes_its_accounts_grants_and_memberships(node: Node) -> None:
    admin.create_group(node.store, "nordic")
    admin.set_group_member(node.store, "nordic", "health-isac", True)
    with node.store.read() as tx:
        removed_id = tx.get_org("health-isac").id
    assert admin.remove_org(node.store, "health-isac") == ["health-isac-analyst", "health-isac-reader"]
    with pytest.raises(Unauthenticated):
        auth.authenticate(node.store, bearer(node.keys["health-isac"]))
    assert admin.group_members(node.store, "nordic")["members"] == []
    assert [g["org"] for g in admin.collection_show(node.store, "default")["grants"]] == ["energy-co", "host-cert"]
    assert actions(node.store)[-1] == "admin.remove_org"
    # the audit log and status resources name organisations and accounts by id: ids are never reused
    admin.add_org(node.store, "newcomer", OrgKind.COMPANY, "BE", ())
    admin.add_account(node.store, "newcomer-soc", "newcomer", Role.READER)
    with node.store.read() as tx:
        assert tx.get_org("newcomer").id > removed_id
        ids = [a.id for a in tx.list_accounts()]
    assert ids == sorted(set(ids))


def test_ids_of_removed_highest_rows_are_not_handed_out_again(store: Store) -> None:
    """SQLite gives a deleted highest id to the next row unless told otherwise."""
    admin.init_node(store)
    first = admin.add_org(store, "first", OrgKind.COMPANY, "FR", ())
    admin.add_account(store, "first-soc", "first", Role.READER)
    with store.read() as tx:
        first_account = tx.get_account("first-soc").id
    admin.remove_org(store, "first")
    second = admin.add_org(store, "second", OrgKind.COMPANY, "FR", ())
    admin.add_account(store, "second-soc", "second", Role.READER)
    with store.read() as tx:
        assert tx.get_account("second-soc").id > first_account
    assert second.id > first.id


def _feed(node: Node, name: str = "feed-a") -> None:
    fed.add_peer(node.store, name, "http://127.0.0.1:9/taxii2/root/", PeerKind.FEED, None, ["default"],
                 frozenset({Tlp.CLEAR}), [], "default", "default", None)


def test_a_disabled_peer_can_neither_authenticate_nor_be_pulled(node: Node) -> None:
    _feed(node)
    with node.store.write() as tx:
        _, key = auth.issue_key(tx, tx.account_id("peer-feed-a"))
    admin.set_peer_enabled(node.store, "feed-a", False)
    with pytest.raises(Unauthenticated, match="organisation is disabled"):
        auth.authenticate(node.store, bearer(key))
    with pytest.raises(NotAllowed, match="disabled"):
        admin.principal_for(node.store, "peer-feed-a")  # what federation.pull acts as
    with node.store.read() as tx:
        peer = tx.find_peer("feed-a")
        assert peer is not None and tx.access_of(peer.org_id) == {}  # what federation.outbound reads
    admin.set_peer_enabled(node.store, "feed-a", True)
    assert auth.authenticate(node.store, bearer(key)).account_name == "peer-feed-a"
    assert actions(node.store)[-2:] == ["admin.disable_peer", "admin.enable_peer"]


def test_removing_a_peer(node: Node) -> None:
    _feed(node, "feed-a")
    _feed(node, "feed-b")
    store_one(node, "peer-feed-b", 1)
    with pytest.raises(Conflict, match="accord peer disable feed-b"):
        admin.remove_peer(node.store, "feed-b")
    with pytest.raises(Conflict, match="is a peer"):
        admin.remove_org(node.store, "feed-a")
    admin.remove_peer(node.store, "feed-a")
    with node.store.read() as tx:
        assert tx.find_peer("feed-a") is None and tx.find_peer("feed-b") is not None
    assert "feed-a" not in {o["name"] for o in admin.node_status(node.store)["organisations"]}
    with pytest.raises(NotFound):
        admin.principal_for(node.store, "peer-feed-a")
    assert actions(node.store)[-1] == "admin.remove_peer"
    with pytest.raises(NotFound):
        admin.remove_peer(node.store, "feed-a")


def test_removing_a_non_member_from_a_group_fails(node: Node) -> None:
    admin.create_group(node.store, "nordic")
    with pytest.raises(NotFound, match="not a member"):
        admin.set_group_member(node.store, "nordic", "energy-co", False)
    admin.set_group_member(node.store, "nordic", "energy-co", True)
    admin.set_group_member(node.store, "nordic", "energy-co", False)
    assert admin.group_members(node.store, "nordic")["members"] == []


def test_collection_show_lists_grants(node: Node) -> None:
    admin.set_org_enabled(node.store, "health-isac", False)
    shown = admin.collection_show(node.store, "default")
    assert shown["alias"] == "default" and shown["api_root"] == "default"
    assert shown["grants"] == [
        {"org": "energy-co", "read": True, "write": True, "org_disabled": False},
        {"org": "health-isac", "read": True, "write": True, "org_disabled": True},
        {"org": "host-cert", "read": True, "write": True, "org_disabled": False},
    ]


def test_aliases_are_unique_across_api_roots(node: Node) -> None:
    with node.store.write() as tx:
        tx.add_api_root("second", "Second", "", admin.DEFAULT_MAX_CONTENT)
    with pytest.raises(InvalidInput, match="exists already"):
        admin.create_collection(node.store, "Again", "default", "", api_root="second")


def test_init_checks_the_host_it_would_create(store: Store) -> None:
    admin.init_node(store, "cert-xx", OrgKind.GOVERNMENT_CERT, "XX", ("government-national",))
    admin.check_host(store, "cert-xx", OrgKind.GOVERNMENT_CERT, "xx", ("government-national",))
    with pytest.raises(Conflict, match="kind 'government-cert' \\(asked 'company'\\)"):
        admin.check_host(store, "cert-xx", OrgKind.COMPANY, "XX", ("government-national",))


def test_commands_do_not_create_a_node_in_an_empty_database(store: Store, tmp_path: Path) -> None:
    """`accord status --database-url ...` on a database without a node fails, and leaves it as it was."""
    url = store.engine.url.render_as_string(hide_password=False)
    settings = Settings(tmp_path, url)
    with pytest.raises(NotFound, match="no Accord node"):
        open_node(settings)  # migrated tables, no node
    admin.init_node(store)
    open_node(settings).close()
    with pytest.raises(NotFound, match=f"no Accord node in {tmp_path / 'typo'}"):
        open_node(Settings(tmp_path / "typo", url))
    assert not (tmp_path / "typo").exists()


def test_an_unmigrated_empty_postgresql_database_is_not_migrated(pg_server: PgServer | None, tmp_path: Path) -> None:
    if pg_server is None:
        pytest.skip("PostgreSQL is not installed (make test installs it)")
    url = pg_server.create_database(f"accord_empty_{os.getpid()}")
    with pytest.raises(NotFound, match="no Accord node in postgresql"):
        open_node(Settings(tmp_path, url))
    probe = Store.open(url)
    try:
        assert inspect(probe.engine).get_table_names() == []
    finally:
        probe.close()
