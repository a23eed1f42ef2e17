"""The console's administration pages (accord.web.ui.admin), in process on both backends: who may
see them, each change and its audit record, and a message next to the field for each bad input."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update
from starlette.testclient import TestClient

from accord.domain.model import OrgKind
from accord.domain.sharing import Agreement, Role
from accord.domain.tlp import Tlp
from accord.federation.model import PeerKind
from accord.federation.signing import load_or_create
from accord.services import admin
from accord.store.tables import audit_log
from tests.conftest import Node
from tests.web.test_console_sessions import HTML, console, csrf_of, sign_in

PAGES = ["/admin", "/admin/orgs", "/admin/accounts", "/admin/keys", "/admin/collections", "/admin/groups",
         "/admin/peers", "/admin/audit"]
POSTS = ["/admin/orgs", "/admin/accounts", "/admin/keys", "/admin/collections", "/admin/groups", "/admin/peers",
         "/admin/audit/verify"]


@pytest.fixture
def browser(node: Node) -> Iterator[TestClient]:
    with console(node) as c:
        sign_in(c, method="key", key=node.admin_key)
        yield c


def post(c: TestClient, path: str, **fields: str | list[str]) -> httpx.Response:
    return c.post(path, data={"csrf": csrf_of(c, "/admin"), **fields}, headers=HTML)


def field_error(page: httpx.Response, field_id: str) -> str:
    """The message next to a field: the field names it by aria-describedby."""
    assert f'aria-describedby="{field_id}-error"' in page.text, page.text
    found = re.search(rf'id="{re.escape(field_id)}-error">([^<]*)<', page.text)
    assert found, page.text
    return found.group(1)


def last_audit(node: Node) -> tuple[str, int | None, bytes]:
    with node.store.read() as tx:
        row = tx.conn.execute(select(audit_log.c.action, audit_log.c.account_id, audit_log.c.details)
                              .order_by(audit_log.c.seq.desc()).limit(1)).one()
    return row[0], row[1], bytes(row[2])


def admin_id(node: Node) -> int:
    with node.store.read() as tx:
        return tx.get_account("admin").id


@pytest.mark.parametrize("who", ["energy-co", "energy-co-reader"])
def test_others_get_a_403_page_and_no_link(node: Node, who: str) -> None:
    with console(node) as c:
        sign_in(c, method="key", key=node.keys[who])
        home = c.get("/", headers=HTML)
        assert home.status_code == 200 and 'href="/admin"' not in home.text
        csrf = csrf_of(c)
        for path in PAGES:
            r = c.get(path, headers=HTML)
            assert r.status_code == 403 and "Administrators only" in r.text and "host-cert" not in r.text, path
        for path in POSTS:
            r = c.post(path, data={"csrf": csrf, "action": "add", "name": "x", "kind": "company", "country": "FR"},
                       headers=HTML)
            assert r.status_code == 403, path
    with node.store.read() as tx:
        assert all(o.name != "x" for o in tx.list_orgs())


def test_an_administrator_of_a_partner_organisation_administers_nothing(node: Node) -> None:
    _, key = admin.add_account(node.store, "energy-co-admin", "energy-co", Role.ADMINISTRATOR)
    with console(node) as c:
        sign_in(c, method="key", key=key)
        assert c.get("/admin/accounts", headers=HTML).status_code == 403


def test_without_a_session_the_pages_send_to_sign_in(node: Node) -> None:
    with console(node) as c:
        r = c.get("/admin/keys", headers=HTML)
        assert r.status_code == 303 and r.headers["location"] == "/signin?next=/admin/keys"


def test_every_page_answers_the_administrator(browser: TestClient) -> None:
    home = browser.get("/", headers=HTML)
    assert 'href="/admin"' in home.text
    for path in PAGES:
        r = browser.get(path, headers=HTML)
        assert r.status_code == 200 and f'href="{path}" aria-current="page"' in r.text, path


def test_a_form_without_the_csrf_token_is_refused(browser: TestClient, node: Node) -> None:
    r = browser.post("/admin/orgs", data={"action": "add", "name": "water-co", "kind": "company", "country": "FR"},
                     headers=HTML)
    assert r.status_code == 403
    with node.store.read() as tx:
        assert all(o.name != "water-co" for o in tx.list_orgs())


def test_add_an_organisation_audited_as_the_administrator(browser: TestClient, node: Node) -> None:
    r = post(browser, "/admin/orgs", action="add", name="water-co", kind="company", country="es",
             sectors="water, utilities")
    assert r.status_code == 303
    page = browser.get(r.headers["location"], headers=HTML)
    assert "Organisation water-co added." in page.text and "water, utilities" in page.text
    action, account, details = last_audit(node)
    assert action == "admin.add_org" and account == admin_id(node) and b'"ES"' in details


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"name": "", "kind": "company", "country": "FR"}, "add-name", "Enter name."),
    ({"name": "x" * 201, "kind": "company", "country": "FR"}, "add-name", "Name has at most 200 characters"),
    ({"name": "evil\u202ename", "kind": "company", "country": "FR"}, "add-name", "invisible formatting"),
    ({"name": "nul\x00", "kind": "company", "country": "FR"}, "add-name", "control"),
    ({"name": "ok", "kind": "bank", "country": "FR"}, "add-kind", "Choose a kind from the list."),
    ({"name": "ok", "kind": "company", "country": "F1"}, "add-country", "two-letter ISO 3166"),
    ({"name": "energy-co", "kind": "company", "country": "FR"}, "add-name", "exists already"),
])
def test_bad_organisations_get_a_message_next_to_the_field(browser: TestClient, node: Node, fields: dict[str, str],
                                                           field: str, message: str) -> None:
    r = post(browser, "/admin/orgs", action="add", **fields)
    assert r.status_code in (400, 409)
    assert message in field_error(r, field)
    with node.store.read() as tx:
        assert [o.name for o in tx.list_orgs()] == ["host-cert", "energy-co", "health-isac", "outsider"]


def test_the_host_organisation_cannot_be_disabled_and_a_partner_can(browser: TestClient, node: Node) -> None:
    r = post(browser, "/admin/orgs", action="disable", name="host-cert")
    assert r.status_code == 403 and "this node&#39;s own organisation" in r.text and 'role="alert"' in r.text
    r = post(browser, "/admin/orgs", action="disable", name="outsider")
    assert r.status_code == 303
    with node.store.read() as tx:
        assert tx.get_org("outsider").id in tx.disabled_orgs()
    page = browser.get(r.headers["location"], headers=HTML)
    assert "Organisation outsider disabled" in page.text


def test_an_account_is_added_with_its_key_shown_once(browser: TestClient, node: Node) -> None:
    r = post(browser, "/admin/accounts", action="add", name="energy-co-soc", org="energy-co", role="contributor")
    assert r.status_code == 200
    key = re.search(r'id="new-key">(acc_[^<]+)<', r.text)
    assert key
    assert key.group(1) not in browser.get("/admin/accounts", headers=HTML).text
    assert key.group(1) not in browser.get("/admin/audit", headers=HTML).text
    assert last_audit(node)[:2] == ("admin.add_account", admin_id(node))
    with console(node) as other:
        assert sign_in(other, method="key", key=key.group(1)).status_code == 303
    unknown = post(browser, "/admin/accounts", action="add", name="a2", org="no-such-org", role="reader")
    assert "No organisation" in field_error(unknown, "add-org")
    twice = post(browser, "/admin/accounts", action="add", name="energy-co-soc", org="energy-co", role="reader")
    assert twice.status_code == 409 and "exists already" in field_error(twice, "add-name")


def test_disabling_an_account_ends_its_session(browser: TestClient, node: Node) -> None:
    with console(node) as analyst:
        sign_in(analyst, method="key", key=node.keys["energy-co"])
        assert analyst.get("/", headers=HTML).status_code == 200
        r = post(browser, "/admin/accounts", action="disable", name="energy-co-analyst")
        assert r.status_code == 303
        assert analyst.get("/", headers=HTML).status_code == 303
    assert last_audit(node)[:2] == ("admin.disable_account", admin_id(node))
    refused = post(browser, "/admin/accounts", action="disable", name="admin")
    assert refused.status_code == 403 and "the node&#39;s own" in refused.text


def test_set_a_password_in_the_console(browser: TestClient, node: Node) -> None:
    mismatch = post(browser, "/admin/accounts", action="password", name="health-isac-reader",
                    password="correct horse battery", again="correct horse batter")
    assert "differ" in field_error(mismatch, "password-again")
    weak = post(browser, "/admin/accounts", action="password", name="health-isac-reader", password="short",
                again="short")
    assert "at least 12" in field_error(weak, "password-password")
    assert "short" not in weak.text.replace("shortly", "")
    r = post(browser, "/admin/accounts", action="password", name="health-isac-reader",
             password="correct horse battery", again="correct horse battery")
    assert r.status_code == 303
    action, account, details = last_audit(node)
    assert action == "admin.set_password" and account == admin_id(node) and b"correct" not in details
    with console(node) as reader:
        assert sign_in(reader, method="password", name="health-isac-reader",
                       password="correct horse battery").status_code == 303


def test_issue_a_key_with_an_expiry_and_revoke_it(browser: TestClient, node: Node) -> None:
    bad = post(browser, "/admin/keys", action="issue", account="energy-co-reader", expires="tomorrow")
    assert "duration" in field_error(bad, "issue-expires")
    past = post(browser, "/admin/keys", action="issue", account="energy-co-reader", expires="2001-01-01")
    assert "not in the future" in field_error(past, "issue-expires")
    r = post(browser, "/admin/keys", action="issue", account="energy-co-reader", expires="30d")
    key = re.search(r'id="new-key">(acc_[^<]+)<', r.text)
    assert r.status_code == 200 and key
    key_id = key.group(1).removeprefix("acc_").partition("_")[0]
    listed = next(k for k in admin.list_keys(node.store) if k["key_id"] == key_id)
    assert listed["expires"] is not None and listed["expires"] in browser.get("/admin/keys", headers=HTML).text
    with console(node) as holder:
        sign_in(holder, method="key", key=key.group(1))
        assert holder.get("/", headers=HTML).status_code == 200
        revoked = post(browser, "/admin/keys", action="revoke", name=key_id)
        assert revoked.status_code == 303
        ended = holder.get("/", headers=HTML)
        assert ended.status_code == 303 and ended.headers["location"].endswith("reason=revoked")
    assert last_audit(node)[:2] == ("admin.revoke_key", admin_id(node))
    again = post(browser, "/admin/keys", action="revoke", name=key_id)
    assert again.status_code == 400 and "No active API key" in again.text


def test_collections_and_grants(browser: TestClient, node: Node) -> None:
    bad = post(browser, "/admin/collections", action="create", title="Energy", alias="Energy Sector")
    assert "alias" in field_error(bad, "create-alias")
    taken = post(browser, "/admin/collections", action="create", title="Another", alias="default")
    assert "exists already" in field_error(taken, "create-alias")
    r = post(browser, "/admin/collections", action="create", title="Energy", alias="energy",
             description="Energy sector\nsharing")
    assert r.status_code == 303
    r = post(browser, "/admin/collections", action="grant", collection="energy", org="energy-co", read="1")
    assert r.status_code == 303
    shown = admin.collection_show(node.store, "energy")
    assert {"org": "energy-co", "read": True, "write": False, "org_disabled": False} in shown["grants"]
    wrong = post(browser, "/admin/collections", action="grant", collection="energy", org="energy-co", read="yes")
    assert "tick the box" in field_error(wrong, "grant-read")
    assert last_audit(node)[:2] == ("admin.grant", admin_id(node))


def test_sharing_groups_and_members(browser: TestClient, node: Node) -> None:
    r = post(browser, "/admin/groups", action="create", name="energy-ring", description="")
    assert r.status_code == 303
    r = post(browser, "/admin/groups", action="member", name="energy-ring", org="energy-co", change="add")
    assert r.status_code == 303
    page = browser.get("/admin/groups", headers=HTML)
    marking = admin.group_members(node.store, "energy-ring")["marking"]
    assert marking in page.text and admin.group_members(node.store, "energy-ring")["members"] == ["energy-co"]
    absent = post(browser, "/admin/groups", action="member", name="energy-ring", org="health-isac", change="remove")
    assert "not a member" in field_error(absent, "member-org")
    nogroup = post(browser, "/admin/groups", action="member", name="nope", org="health-isac", change="add")
    assert "No sharing group" in field_error(nogroup, "member-name")


def test_peers_show_agreements_and_fingerprints(browser: TestClient, node: Node, tmp_path: Path) -> None:
    node_id = "identity--11111111-2222-3333-4444-555555555555"
    signer = load_or_create(tmp_path, node_id)
    admin.add_org(node.store, "cert-nl", OrgKind.GOVERNMENT_CERT, "NL", ())
    admin.create_group(node.store, "energy-ring")
    with node.store.write() as tx:
        tx.add_node_keys(node_id, signer.public)
        tx.add_peer("cert-nl", PeerKind.NODE, tx.get_org("cert-nl").id, node_id,
                    "https://cert.example.nl", "default", "default", [], Agreement(frozenset({Tlp.CLEAR})))
    page = browser.get("/admin/peers", headers=HTML)
    assert signer.public.fingerprint in page.text and "TLP:CLEAR" in page.text
    r = post(browser, "/admin/peers", action="agreement", name="cert-nl", levels=["0", "1", "2"],
             groups=["energy-ring"])
    assert r.status_code == 303
    with node.store.read() as tx:
        peer = tx.find_peer("cert-nl")
        assert peer is not None and peer.agreement.levels == {Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER}
        assert peer.agreement.groups == {tx.get_group("energy-ring").id}
    assert last_audit(node)[:2] == ("federation.peer_set", admin_id(node))
    form = browser.get("/admin/peers?peer=cert-nl", headers=HTML).text
    checked = re.findall(r'name="(levels|groups)" value="([^"]+)" checked', form)
    assert sorted(checked) == [("groups", "energy-ring"), ("levels", "0"), ("levels", "1"), ("levels", "2")]
    assert 'value="cert-nl" selected' in form
    assert " checked" not in browser.get("/admin/peers?peer=%3Cnobody%3E", headers=HTML).text
    bad = post(browser, "/admin/peers", action="agreement", name="cert-nl", levels=["9"])
    assert "Choose tlp levels" in field_error(bad, "agreement-levels")
    r = post(browser, "/admin/peers", action="disable", name="cert-nl")
    assert r.status_code == 303 and "disabled" in browser.get("/admin/peers", headers=HTML).text


def test_the_audit_log_is_searchable_paged_and_verified(browser: TestClient, node: Node) -> None:
    for i in range(60):
        admin.create_group(node.store, f"group-{i:02d}")
    first = browser.get("/admin/audit", headers=HTML)
    assert first.status_code == 200 and "group-59" in first.text and "group-05" not in first.text
    older = re.search(r'href="(/admin/audit\?[^"]*before=\d+)"', first.text)
    assert older
    second = browser.get(older.group(1).replace("&amp;", "&"), headers=HTML)
    assert "group-05" in second.text and "group-59" not in second.text
    found = browser.get("/admin/audit?q=GROUP-07", headers=HTML)
    assert "group-07" in found.text and "group-08" not in found.text
    bad = browser.get("/admin/audit?before=-1", headers=HTML)
    assert bad.status_code == 400 and 'id="audit-before-error"' in bad.text
    long = browser.get("/admin/audit?q=" + "x" * 300, headers=HTML)
    assert long.status_code == 400 and "at most 200" in field_error(long, "audit-q")
    ok = post(browser, "/admin/audit/verify", action="verify")
    assert ok.status_code == 200 and "Chain intact" in ok.text
    with node.store.write() as tx:
        tx.conn.execute(update(audit_log).where(audit_log.c.seq == 5).values(details=b'{"group":"forged"}'))
    broken = post(browser, "/admin/audit/verify", action="verify")
    assert "Chain BROKEN at record 5" in broken.text
