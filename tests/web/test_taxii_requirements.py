"""TAXII 2.1 requirements the node met before issue 19, pinned so that each row of the conformance
table in docs/api.md names a test. They passed on the code before this file, by design: they guard
against regressions; tests/web/test_conformance.py holds the ones that drove fixes."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from starlette.testclient import TestClient

from accord.domain.errors import InvalidInput
from accord.services import admin
from accord.services import objects as svc
from accord.stix.timestamps import now_micros
from accord.web.app import create_app
from tests.conftest import Node
from tests.stixgen import TAXII, indicator
from tests.web.conftest import BASE, post

TAXII_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
MALWARE = {"type": "malware", "spec_version": "2.1", "id": "malware--11111111-1111-4111-8111-111111111111",
           "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
           "name": "Industroyer", "is_family": True}


def get(client: TestClient, node: Node, path: str, **params: Any) -> Any:
    return client.get(path, params=params, headers={**node.auth("energy-co"), "Accept": TAXII})


def is_uuid4(value: str) -> bool:
    return uuid.UUID(value).version == 4 and str(uuid.UUID(value)) == value


def test_identifiers_are_version_4_uuids(client: TestClient, node: Node) -> None:
    """Section 2 (identifier): collection and status ids."""
    assert is_uuid4(get(client, node, BASE + "/").json()["id"])
    assert is_uuid4(post(client, node, indicator(1))["id"])


def test_taxii_timestamps_have_microseconds_in_utc(client: TestClient, node: Node) -> None:
    """Section 2 (timestamp): date_added, request_timestamp and the X-TAXII-Date-Added headers."""
    status = post(client, node, indicator(1), indicator(1, modified="2026-02-01T00:00:00.000Z"))
    assert TAXII_TIMESTAMP.match(status["request_timestamp"])
    oid = indicator(1)["id"]
    for path in (BASE + "/objects/", BASE + "/manifest/", BASE + f"/objects/{oid}/",
                 BASE + f"/objects/{oid}/versions/"):
        r = get(client, node, path)
        first, last = r.headers["X-TAXII-Date-Added-First"], r.headers["X-TAXII-Date-Added-Last"]
        assert TAXII_TIMESTAMP.match(first) and TAXII_TIMESTAMP.match(last) and first <= last, path
    for record in get(client, node, BASE + "/manifest/").json()["objects"]:
        assert TAXII_TIMESTAMP.match(record["date_added"])


def test_date_added_headers_bracket_each_page(client: TestClient, node: Node) -> None:
    """Section 3.2: the headers name the first and last date_added of the page sent."""
    post(client, node, *[indicator(n) for n in range(3)])
    r = get(client, node, BASE + "/manifest/", limit=2)
    records = r.json()["objects"]
    assert r.headers["X-TAXII-Date-Added-First"] == records[0]["date_added"]
    assert r.headers["X-TAXII-Date-Added-Last"] == records[-1]["date_added"]


def test_results_are_sorted_by_date_added(client: TestClient, node: Node) -> None:
    """Section 3.3: ascending date_added, whatever the objects' own timestamps."""
    post(client, node, indicator(2, modified="2026-03-01T00:00:00.000Z"))
    post(client, node, indicator(1))
    post(client, node, MALWARE)
    records = get(client, node, BASE + "/manifest/").json()["objects"]
    assert [r["date_added"] for r in records] == sorted(r["date_added"] for r in records)
    assert [r["id"] for r in records] == [indicator(2)["id"], indicator(1)["id"], MALWARE["id"]]
    assert [o["id"] for o in get(client, node, BASE + "/objects/").json()["objects"]] == [r["id"] for r in records]


def test_different_match_fields_combine_with_and(client: TestClient, node: Node) -> None:
    """Section 3.4: values of one field are a logical OR, different fields a logical AND."""
    post(client, node, indicator(1), MALWARE)
    both = get(client, node, BASE + "/objects/", **{"match[type]": "indicator,malware"}).json()["objects"]
    assert {o["id"] for o in both} == {indicator(1)["id"], MALWARE["id"]}
    none = get(client, node, BASE + "/objects/", **{"match[type]": "indicator", "match[id]": MALWARE["id"]})
    assert none.status_code == 200 and none.json() == {}


def test_every_response_has_the_taxii_content_type(client: TestClient, node: Node) -> None:
    """Sections 1 (content types) and 3.2: successes and errors alike."""
    sid = post(client, node, indicator(1))["id"]
    oid = indicator(1)["id"]
    answers = [get(client, node, p) for p in (
        "/taxii2/", "/taxii2/default/", "/taxii2/default/collections/", BASE + "/", BASE + "/manifest/",
        BASE + "/objects/", BASE + f"/objects/{oid}/", BASE + f"/objects/{oid}/versions/",
        f"/taxii2/default/status/{sid}/", "/taxii2/nope/", "/nothing-here")]
    answers.append(get(client, node, BASE + "/objects/", limit=0))
    answers.append(client.get("/taxii2/"))
    answers.append(client.delete(BASE + f"/objects/{oid}/", headers={**node.auth("energy-co"), "Accept": TAXII}))
    assert [(r.status_code, r.headers["content-type"]) for r in answers] == [
        (status, TAXII) for status in (200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404, 400, 401, 200)]


@pytest.mark.parametrize("accept", [
    None, "*/*", "application/*", "application/taxii+json", "application/taxii+json; version=2.1",
    "APPLICATION/TAXII+JSON;VERSION=2.1", "text/html;q=0.9, application/taxii+json;version=2.1;q=0.8",
])
def test_accept_headers_that_allow_taxii_21_are_served(client: TestClient, node: Node, accept: str | None) -> None:
    """Section 1 (content types) and 3.2: content negotiation; the ones that exclude TAXII 2.1 get
    406 (tests/web/test_bad_input.py::test_wrong_accept_gets_406)."""
    headers = {**node.auth("energy-co"), **({"Accept": accept} if accept is not None else {})}
    r = client.get(BASE + "/objects/", headers=headers)
    assert r.status_code == 200 and r.headers["content-type"] == TAXII


def test_unexpected_errors_are_taxii_error_messages(node: Node, monkeypatch: pytest.MonkeyPatch) -> None:
    """Section 3.6: a 500 carries an error message too, and says nothing of the cause."""
    def broken(*_args: Any) -> Any:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(svc, "get_objects", broken)
    with TestClient(create_app(node.store), raise_server_exceptions=False) as client:
        r = get(client, node, BASE + "/objects/")
    assert r.status_code == 500 and r.headers["content-type"] == TAXII
    assert r.json()["http_status"] == "500" and "fire" not in r.text


def test_statuses_are_kept_beyond_24_hours(client: TestClient, node: Node, monkeypatch: pytest.MonkeyPatch) -> None:
    """Section 4.3: a status stays readable at least 24 hours after completion (a week here)."""
    sid = post(client, node, indicator(1))["id"]
    with node.store.write() as tx:
        found = tx.get_status(sid)
        assert found is not None
        old = "5c1d0d5e-8c3b-4a4e-9d6b-000000000002"
        tx.save_status(old, found[0], found[1], now_micros() - 25 * 3600 * 1_000_000, found[2])
    monkeypatch.setattr(svc, "_last_prune", [0])  # the next POST prunes
    post(client, node, indicator(2))
    assert get(client, node, f"/taxii2/default/status/{old}/").status_code == 200


def test_status_counts_add_up_and_details_name_id_and_version(client: TestClient, node: Node) -> None:
    """Section 4.3.1: required counts, total = successes + failures + pendings, status-details."""
    status = post(client, node, indicator(1), indicator(1), {"type": "nonsense"})
    assert status["status"] == "complete"
    assert status["total_count"] == 3 == status["success_count"] + status["failure_count"] + status["pending_count"]
    details = status["successes"] + status["failures"]
    assert len(details) == 3 and all(isinstance(d["id"], str) and isinstance(d["version"], str) for d in details)


def test_discovery_default_is_one_of_the_api_roots(client: TestClient, node: Node) -> None:
    """Section 4.1.1."""
    body = get(client, node, "/taxii2/").json()
    assert body["title"] and body["default"] in body["api_roots"]


def test_collection_aliases_are_unique_in_an_api_root(node: Node) -> None:
    """Section 5.2.1: an alias names one collection of its API root."""
    admin.create_collection(node.store, "Energy sector", "energy", "")
    with pytest.raises(InvalidInput):
        admin.create_collection(node.store, "Energy again", "energy", "")


def test_booleans_and_integers_are_json_literals(client: TestClient, node: Node) -> None:
    """Section 2 (boolean, integer): true/false unquoted; integers within +-(2**53 - 1)."""
    status = post(client, node, indicator(1), indicator(2))
    collection = get(client, node, BASE + "/").json()
    page = get(client, node, BASE + "/objects/", limit=1).json()
    assert all(type(v) is bool for v in (collection["can_read"], collection["can_write"], page["more"]))
    numbers = [get(client, node, "/taxii2/default/").json()["max_content_length"],
               *(status[k] for k in ("total_count", "success_count", "failure_count", "pending_count"))]
    assert all(type(n) is int and abs(n) <= 2**53 - 1 for n in numbers)
