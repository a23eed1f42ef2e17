"""Console sign-in, sessions, cookies and CSRF (accord.web.ui), in process on both backends."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select, update
from starlette.testclient import TestClient

from accord.config import HttpSettings
from accord.services import admin
from accord.services.sessions import SessionPolicy
from accord.stix.timestamps import now_micros
from accord.store.tables import ui_sessions
from accord.web.app import create_app
from accord.web.ui.signin import safe_next
from tests.conftest import Node

HTML = {"Accept": "text/html"}
PASSWORD = "correct horse battery staple"


def console(node: Node, public_url: str = "http://testserver") -> TestClient:
    return TestClient(create_app(node.store, HttpSettings(public_url=public_url)), base_url=public_url,
                      raise_server_exceptions=False, follow_redirects=False)


@pytest.fixture
def browser(node: Node) -> Iterator[TestClient]:
    with console(node) as c:
        yield c


def signin_token(c: TestClient) -> str:
    page = c.get("/signin", headers=HTML)
    assert page.status_code == 200
    found = re.search(r'name="signin_token" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def sign_in(c: TestClient, **fields: str) -> httpx.Response:
    return c.post("/signin", data={"signin_token": signin_token(c), **fields}, headers=HTML)


def csrf_of(c: TestClient, path: str = "/") -> str:
    page = c.get(path, headers=HTML)
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', page.text)
    assert found
    return found.group(1)


def test_a_browser_without_a_session_is_sent_to_sign_in_and_other_clients_get_json(browser: TestClient) -> None:
    r = browser.get("/?x=1", headers=HTML)
    assert r.status_code == 303 and r.headers["location"] == "/signin?next=/%3Fx%3D1"
    assert browser.get("/").json()["taxii_discovery"] == "/taxii2/"


def test_sign_in_with_an_api_key_sets_a_strict_http_only_cookie(browser: TestClient, node: Node) -> None:
    r = sign_in(browser, method="key", key=node.keys["energy-co"], next="/?a=b")
    assert r.status_code == 303 and r.headers["location"] == "/?a=b"
    cookie = next(v for v in r.headers.get_list("set-cookie") if v.startswith("accord_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    page = browser.get("/", headers=HTML)
    assert page.status_code == 200 and "energy-co-analyst" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "unsafe-inline" not in page.headers["content-security-policy"]


def test_only_a_hash_of_the_session_token_is_stored(browser: TestClient, node: Node) -> None:
    sign_in(browser, method="key", key=node.keys["energy-co"])
    token = browser.cookies["accord_session"]
    with node.store.read() as tx:
        rows = tx.conn.execute(select(ui_sessions)).all()
    assert len(rows) == 1 and token not in repr(rows)
    assert len(rows[0].token_sha256) == 64


def test_over_tls_the_cookie_is_secure_and_host_bound(node: Node) -> None:
    with console(node, "https://taxii.example.org") as c:
        r = sign_in(c, method="key", key=node.keys["energy-co"])
        cookie = next(v for v in r.headers.get_list("set-cookie") if v.startswith("__Host-accord_session="))
        assert "Secure" in cookie and "HttpOnly" in cookie and "Path=/" in cookie and "Domain" not in cookie
        assert c.get("/", headers=HTML).status_code == 200


def test_a_wrong_key_gets_a_message_next_to_its_field_and_no_session(browser: TestClient) -> None:
    r = sign_in(browser, method="key", key="acc_0123456789abcdef_wrong")
    assert r.status_code == 401
    assert 'aria-describedby="key-error"' in r.text and 'id="key-error"' in r.text
    assert "accord_session" not in browser.cookies
    empty = sign_in(browser, method="key", key="")
    assert empty.status_code == 400 and 'id="key-error"' in empty.text


def test_sign_in_with_a_password(browser: TestClient, node: Node) -> None:
    admin.set_password(node.store, "health-isac-reader", PASSWORD)
    wrong = sign_in(browser, method="password", name="health-isac-reader", password=PASSWORD + "!")
    unknown = sign_in(browser, method="password", name="nobody", password=PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    message = "The account name or the password is wrong."
    assert message in wrong.text and message in unknown.text and 'id="password-error"' in wrong.text
    no_password_set = sign_in(browser, method="password", name="energy-co-reader", password=PASSWORD)
    assert no_password_set.status_code == 401
    r = sign_in(browser, method="password", name="health-isac-reader", password=PASSWORD)
    assert r.status_code == 303
    assert "health-isac-reader" in browser.get("/", headers=HTML).text


def test_a_weak_password_is_refused(node: Node) -> None:
    from accord.domain.errors import InvalidInput

    with pytest.raises(InvalidInput, match="at least 12"):
        admin.set_password(node.store, "health-isac-reader", "short")


def test_a_new_password_ends_the_accounts_sessions(browser: TestClient, node: Node) -> None:
    admin.set_password(node.store, "health-isac-reader", PASSWORD)
    sign_in(browser, method="password", name="health-isac-reader", password=PASSWORD)
    assert admin.set_password(node.store, "health-isac-reader", PASSWORD + " two") == 1
    assert browser.get("/", headers=HTML).status_code == 303


def test_the_sign_in_form_needs_its_own_token(browser: TestClient, node: Node) -> None:
    r = browser.post("/signin", data={"method": "key", "key": node.keys["energy-co"]}, headers=HTML)
    assert r.status_code == 403 and "accord_session" not in browser.cookies


def test_sign_out_needs_the_csrf_token_and_ends_the_session(browser: TestClient, node: Node) -> None:
    sign_in(browser, method="key", key=node.keys["energy-co"])
    csrf = csrf_of(browser)
    forged = browser.post("/signout", data={"csrf": "0" * 64}, headers=HTML)
    assert forged.status_code == 403 and 'role="alert"' in forged.text
    assert browser.get("/", headers=HTML).status_code == 200
    token = browser.cookies["accord_session"]
    r = browser.post("/signout", data={"csrf": csrf}, headers=HTML)
    assert r.status_code == 303 and r.headers["location"] == "/signin?reason=signed-out"
    browser.cookies.set("accord_session", token)  # a copy of the cookie is worth nothing now
    assert browser.get("/", headers=HTML).status_code == 303
    with node.store.read() as tx:
        assert tx.conn.execute(select(ui_sessions)).all() == []


def _age(node: Node, column: str, seconds: int) -> None:
    with node.store.write() as tx:
        tx.conn.execute(update(ui_sessions).values({column: now_micros() - seconds * 1_000_000}))


@pytest.mark.parametrize(("column", "seconds", "reason"),
                         [("last_seen", SessionPolicy().idle + 5, "idle"),
                          ("created", SessionPolicy().absolute + 5, "absolute")])
def test_sessions_expire_when_idle_and_at_their_absolute_limit(browser: TestClient, node: Node, column: str,
                                                               seconds: int, reason: str) -> None:
    sign_in(browser, method="key", key=node.keys["energy-co"])
    _age(node, column, seconds - 10)
    assert browser.get("/", headers=HTML).status_code == 200
    _age(node, column, seconds)
    r = browser.get("/", headers=HTML)
    assert r.status_code == 303 and r.headers["location"] == f"/signin?next=/&reason={reason}"
    notice = browser.get(r.headers["location"], headers=HTML)
    assert "Please sign in again" in notice.text


def test_use_keeps_a_session_alive(browser: TestClient, node: Node) -> None:
    sign_in(browser, method="key", key=node.keys["energy-co"])
    _age(node, "last_seen", SessionPolicy().idle - 10)
    assert browser.get("/", headers=HTML).status_code == 200  # touches it
    with node.store.read() as tx:
        last_seen = tx.conn.execute(select(ui_sessions.c.last_seen)).scalar_one()
    assert now_micros() - last_seen < 60 * 1_000_000


def test_revoking_the_key_ends_its_session_at_the_next_request(browser: TestClient, node: Node) -> None:
    key_id, key = admin.issue_key(node.store, "energy-co-analyst")
    sign_in(browser, method="key", key=key)
    assert browser.get("/", headers=HTML).status_code == 200
    admin.revoke_key(node.store, key_id)
    r = browser.get("/", headers=HTML)
    assert r.status_code == 303 and r.headers["location"].endswith("reason=revoked")


def test_an_expired_key_ends_its_session(browser: TestClient, node: Node) -> None:
    key_id, key = admin.issue_key(node.store, "energy-co-analyst", now_micros() + 60 * 1_000_000)
    sign_in(browser, method="key", key=key)
    with node.store.write() as tx:
        from accord.store.tables import api_keys

        tx.conn.execute(update(api_keys).where(api_keys.c.key_id == key_id).values(expires=now_micros() - 1))
    assert browser.get("/", headers=HTML).headers["location"].endswith("reason=expired")


def test_disabling_the_account_ends_a_password_session(browser: TestClient, node: Node) -> None:
    admin.set_password(node.store, "health-isac-reader", PASSWORD)
    sign_in(browser, method="password", name="health-isac-reader", password=PASSWORD)
    admin.set_account_enabled(node.store, "health-isac-reader", False)
    assert browser.get("/", headers=HTML).headers["location"].endswith("reason=disabled")
    refused = sign_in(browser, method="password", name="health-isac-reader", password=PASSWORD)
    assert refused.status_code == 401


def test_removing_an_account_removes_its_sessions_and_password(browser: TestClient, node: Node) -> None:
    admin.set_password(node.store, "health-isac-reader", PASSWORD)
    sign_in(browser, method="password", name="health-isac-reader", password=PASSWORD)
    admin.remove_account(node.store, "health-isac-reader")
    assert browser.get("/", headers=HTML).status_code == 303


def test_failed_sign_ins_are_throttled_per_account(browser: TestClient, node: Node) -> None:
    admin.set_password(node.store, "health-isac-reader", PASSWORD)
    for _ in range(5):
        assert sign_in(browser, method="password", name="health-isac-reader", password="wrong").status_code == 401
    held = sign_in(browser, method="password", name="health-isac-reader", password=PASSWORD)
    assert held.status_code == 429 and int(held.headers["retry-after"]) > 0
    assert "Too many failed sign-ins" in held.text
    assert sign_in(browser, method="key", key=node.keys["energy-co"]).status_code == 303  # another account


def test_next_only_leads_to_this_node() -> None:
    for bad in ("//evil.example/", "https://evil.example/", "/\\evil.example", "evil", "/\x00x", ""):
        assert safe_next(bad) == "/"
    assert safe_next("/objects/indicator--1?tab=versions") == "/objects/indicator--1?tab=versions"


def test_a_hostile_next_is_not_reflected_unescaped(browser: TestClient) -> None:
    page = browser.get('/signin?next=/"><script>alert(1)</script>&reason=<b>', headers=HTML)
    assert page.status_code == 200 and "<script>alert" not in page.text and "<b>" not in page.text
