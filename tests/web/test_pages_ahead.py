"""Pages prepared ahead (``services.objects._PagesAhead``): served only when nothing has changed since
they were prepared, only to the requester and query they were prepared for, and recorded in the audit
log only when served."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from starlette.testclient import TestClient

from accord.domain.tlp import Tlp
from accord.services import objects as svc
from tests.conftest import Node
from tests.stixgen import TAXII, indicator
from tests.web.conftest import BASE
from tests.web.test_taxii_api import get, post


def settle() -> None:
    """Wait until the background thread has prepared what it was asked to (it works in order)."""
    pool = svc._AHEAD._pool
    if pool is not None:
        pool.submit(lambda: None).result(timeout=30)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The threads that read a page from the store, in order."""
    seen: list[str] = []
    real = svc._visible_page

    def counting(*args: Any, **kwargs: Any) -> Any:
        seen.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(svc, "_visible_page", counting)
    return seen


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [o["id"] for o in response.json().get("objects", [])]


def test_the_next_page_is_prepared_and_served(client: TestClient, node: Node, reads: list[str]) -> None:
    post(client, node, "energy-co", *[indicator(i) for i in range(25)])
    first = get(client, node, "health-isac", BASE + "/objects/", limit=10)
    settle()
    assert len(reads) == 2 and reads[1].startswith("accord-page-ahead")
    second = get(client, node, "health-isac", BASE + "/objects/", limit=10, next=first.json()["next"])
    settle()
    # page 2 came from the prepared read; page 3 was prepared after it
    assert len(reads) == 3 and all(r.startswith("accord-page-ahead") for r in reads[1:])
    third = get(client, node, "health-isac", BASE + "/objects/", limit=10, next=second.json()["next"])
    assert ids(first) + ids(second) + ids(third) == [indicator(i)["id"] for i in range(25)]
    assert third.json()["more"] is False
    manifest = get(client, node, "health-isac", BASE + "/manifest/", limit=10)
    settle()
    rest = get(client, node, "health-isac", BASE + "/manifest/", limit=10, next=manifest.json()["next"])
    assert ids(rest) == [indicator(i)["id"] for i in range(10, 20)]


def test_objects_added_after_preparing_are_not_missed(client: TestClient, node: Node, reads: list[str]) -> None:
    post(client, node, "energy-co", *[indicator(i) for i in range(15)])
    first = get(client, node, "health-isac", BASE + "/objects/", limit=10)
    settle()  # the last page (5 objects, no more) is ready
    post(client, node, "energy-co", *[indicator(i) for i in range(15, 18)])
    last = get(client, node, "health-isac", BASE + "/objects/", limit=10, next=first.json()["next"])
    assert ids(last) == [indicator(i)["id"] for i in range(10, 18)]
    assert not reads[-1].startswith("accord-page-ahead")  # read afresh


def test_a_deletion_after_preparing_is_seen(client: TestClient, node: Node) -> None:
    post(client, node, "energy-co", *[indicator(i) for i in range(20)])
    first = get(client, node, "health-isac", BASE + "/objects/", limit=10)
    settle()
    gone = indicator(12)["id"]
    r = client.delete(f"{BASE}/objects/{gone}/", headers={**node.auth("energy-co"), "Accept": TAXII})
    assert r.status_code == 200
    second = get(client, node, "health-isac", BASE + "/objects/", limit=10, next=first.json()["next"])
    assert gone not in ids(second) and len(ids(second)) == 9


def test_a_page_prepared_for_one_organisation_is_not_served_to_another(client: TestClient, node: Node) -> None:
    # energy-co's own TLP:RED objects are readable by energy-co only
    post(client, node, "energy-co", *[indicator(i, tlp=Tlp.RED if i % 2 else Tlp.GREEN) for i in range(20)])
    mine = get(client, node, "energy-co", BASE + "/objects/", limit=4)
    settle()  # energy-co's second page, with RED objects, is ready
    theirs = get(client, node, "health-isac", BASE + "/objects/", limit=4, next=mine.json()["next"])
    assert ids(theirs) and all(int(i[-12:], 16) % 2 == 1 for i in ids(theirs))  # GREEN: n + 1 odd
    red = {indicator(i)["id"] for i in range(1, 20, 2)}
    assert not red & set(ids(theirs))


def test_only_served_pages_are_recorded_in_the_audit_log(client: TestClient, node: Node) -> None:
    post(client, node, "energy-co", *[indicator(i, tlp=Tlp.AMBER) for i in range(30)])
    first = get(client, node, "health-isac", BASE + "/objects/", limit=10)
    settle()
    second = get(client, node, "health-isac", BASE + "/objects/", limit=10, next=first.json()["next"])
    settle()  # a third page is prepared and never asked for
    with node.store.read() as tx:
        reads = [r.details["objects"] for r, _ in tx.audit_records() if r.action == "taxii.get_objects"]
    assert [[o[0] for o in objects] for objects in reads] == [ids(first), ids(second)]
