"""Helpers for in-process tests of the console's pages: a signed-in TestClient per key."""

from __future__ import annotations

import re
from typing import Any

from starlette.testclient import TestClient

from accord.config import HttpSettings
from accord.store.repository import Store
from accord.web.app import create_app
from tests.conftest import Node
from tests.stixgen import TAXII, envelope
from tests.web.test_console_sessions import csrf_of as csrf

__all__ = ["BASE", "HTML", "csrf", "post_objects", "signed_in", "signed_in_with", "taxii_get"]

HTML = {"Accept": "text/html"}
BASE = "/taxii2/default/collections/default"


def signed_in(node: Node, who: str) -> TestClient:
    """A browser-like client signed in with ``who``'s key (500s come back as responses)."""
    return signed_in_with(node.store, node.keys[who])


def signed_in_with(store: Store, key: str) -> TestClient:
    c = TestClient(create_app(store, HttpSettings(public_url="http://testserver")),
                   raise_server_exceptions=False, follow_redirects=False)
    page = c.get("/signin", headers=HTML)
    token = re.search(r'name="signin_token" value="([^"]+)"', page.text)
    assert token
    r = c.post("/signin", data={"signin_token": token.group(1), "method": "key", "key": key}, headers=HTML)
    assert r.status_code == 303, r.text
    return c


def post_objects(c: TestClient, node: Node, who: str, *objects: Any) -> dict[str, Any]:
    r = c.post(BASE + "/objects/", json=envelope(*objects),
               headers={**node.auth(who), "Content-Type": TAXII, "Accept": TAXII})
    assert r.status_code == 202, r.text
    status: dict[str, Any] = r.json()
    assert status["failure_count"] == 0, status
    return status


def taxii_get(c: TestClient, node: Node, who: str, path: str) -> Any:
    return c.get(BASE + path, headers={**node.auth(who), "Accept": TAXII})
