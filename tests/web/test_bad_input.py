"""Hostile and malformed requests: each gets its TAXII error, never a 500, and nothing stored changes."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from starlette.testclient import TestClient

from accord.services import admin
from tests.conftest import Node
from tests.stixgen import TAXII, envelope, indicator
from tests.web.conftest import BASE


def _stored(client: TestClient, node: Node) -> Any:
    return client.get(BASE + "/objects/", params={"match[version]": "all"},
                      headers={**node.auth("energy-co"), "Accept": TAXII}).json()


@pytest.fixture
def seeded(client: TestClient, node: Node) -> Any:
    r = client.post(BASE + "/objects/", json=envelope(indicator(1), indicator(2)),
                    headers={**node.auth("energy-co"), "Content-Type": TAXII})
    assert r.status_code == 202
    return _stored(client, node)


def _is_taxii_error(r: Any, status: int) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == TAXII
    body = r.json()
    assert body["http_status"] == str(status) and body["title"] and body["description"]


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer acc_0000000000000000_forged"},
    {"Authorization": "Bearer not-even-a-key"},
    {"Authorization": "Basic " + base64.b64encode(b"user:acc_0123456789abcdef_guess").decode()},
    {"Authorization": "Basic !!!notbase64"},
    {"Authorization": "Digest username=x"},
])
def test_missing_or_forged_credentials_get_401(client: TestClient, node: Node, seeded: Any,
                                               headers: dict[str, str]) -> None:
    for path in ("/taxii2/", BASE + "/objects/", BASE + "/manifest/"):
        r = client.get(path, headers=headers)
        _is_taxii_error(r, 401)
        assert "WWW-Authenticate" in r.headers
    assert _stored(client, node) == seeded


def test_basic_auth_with_the_key_as_password_works(client: TestClient, node: Node) -> None:
    basic = base64.b64encode(f"anyone:{node.keys['energy-co']}".encode()).decode()
    assert client.get("/taxii2/", headers={"Authorization": "Basic " + basic}).status_code == 200


def test_revoked_key_is_refused(client: TestClient, node: Node) -> None:
    key = node.keys["energy-co"]
    admin.revoke_key(node.store, key.split("_")[1])
    _is_taxii_error(client.get("/taxii2/", headers={"Authorization": f"Bearer {key}"}), 401)


def test_wrong_accept_gets_406(client: TestClient, node: Node) -> None:
    for accept in ("text/html", "application/taxii+json;version=2.0", "application/json;q=0"):
        _is_taxii_error(client.get(BASE + "/objects/", headers={**node.auth("energy-co"), "Accept": accept}), 406)


def test_wrong_content_type_gets_415(client: TestClient, node: Node, seeded: Any) -> None:
    for ctype in ("application/json", "text/plain", "application/taxii+json;version=2.0"):
        r = client.post(BASE + "/objects/", content=b'{"objects": []}',
                        headers={**node.auth("energy-co"), "Content-Type": ctype})
        _is_taxii_error(r, 415)
    assert _stored(client, node) == seeded


def test_oversized_body_gets_413(client: TestClient, node: Node, seeded: Any) -> None:
    with node.store.write() as tx:
        tx.conn.exec_driver_sql("UPDATE api_roots SET max_content_length = 1000")
    big = envelope(*[indicator(i) for i in range(10, 30)])
    r = client.post(BASE + "/objects/", json=big, headers={**node.auth("energy-co"), "Content-Type": TAXII})
    _is_taxii_error(r, 413)
    assert _stored(client, node) == seeded


@pytest.mark.parametrize("body,status", [
    (b"{not json", 400),
    (b"\xff\xfe\x00garbage", 400),
    (b"", 400),
    (b"[]", 422),
    (b'{"objects": {"a": 1}}', 422),
    (b'{"type": "bundle"}', 422),
])
def test_malformed_bodies(client: TestClient, node: Node, seeded: Any, body: bytes, status: int) -> None:
    r = client.post(BASE + "/objects/", content=body, headers={**node.auth("energy-co"), "Content-Type": TAXII})
    _is_taxii_error(r, status)
    assert _stored(client, node) == seeded


def test_hostile_stix_is_refused_and_nothing_stored_changes(client: TestClient, node: Node, seeded: Any) -> None:
    hostile = [
        indicator(1, name="overwrite attempt", modified="2026-01-01T00:00:00.000Z",
                  created="2027-01-01T00:00:00.000Z"),  # modified earlier than created
        {**indicator(9), "spec_version": "2.0"},
        {**indicator(9), "id": "indicator--not-a-uuid"},
        {**indicator(9), "created": "yesterday"},
        {**indicator(9), "created": "2026-02-30T00:00:00Z"},
        {**indicator(9), "confidence": 101},
        {**indicator(9), "object_marking_refs": ["tlp:red"]},
        {**indicator(9), "Bad-Property": 1},
        {**indicator(9), "pattern": "[file:hashes.'SHA-256' = 'abc']"},
        {"type": "bundle", "id": "bundle--11111111-1111-4111-8111-111111111111", "objects": []},
        {**indicator(9), "valid_until": "2025-01-01T00:00:00Z"},
    ]
    r = client.post(BASE + "/objects/", json=envelope(*hostile),
                    headers={**node.auth("energy-co"), "Content-Type": TAXII})
    assert r.status_code == 202
    status = r.json()
    assert status["failure_count"] == len(hostile) and status["success_count"] == 0
    assert _stored(client, node) == seeded


def test_unknown_collection_root_status_and_object_get_404(client: TestClient, node: Node) -> None:
    h = {**node.auth("energy-co"), "Accept": TAXII}
    for path in ("/taxii2/nope/", "/taxii2/default/collections/nope/objects/",
                 "/taxii2/default/status/00000000-0000-4000-8000-000000000000/",
                 BASE + "/objects/indicator--00000000-0000-4000-8000-000000000000/", "/nothing-here"):
        _is_taxii_error(client.get(path, headers=h), 404)


@pytest.mark.parametrize("params", [
    {"added_after": "last tuesday"},
    {"match[version]": "newest"},
    {"limit": "-1"},
    {"limit": "ten"},
    {"next": "DROP TABLE objects"},
    {"next": "99999999999999999999999"},
    {"match[relationship_type]": "uses"},
])
def test_bad_filters_and_tokens_get_400(client: TestClient, node: Node, seeded: Any, params: dict[str, str]) -> None:
    r = client.get(BASE + "/objects/", params=params, headers={**node.auth("energy-co"), "Accept": TAXII})
    _is_taxii_error(r, 400)
    assert _stored(client, node) == seeded


def test_status_of_another_organisation_is_not_found(client: TestClient, node: Node) -> None:
    r = client.post(BASE + "/objects/", json=envelope(indicator(1)),
                    headers={**node.auth("energy-co"), "Content-Type": TAXII})
    sid = r.json()["id"]
    _is_taxii_error(client.get(f"/taxii2/default/status/{sid}/", headers=node.auth("health-isac")), 404)
    assert client.get(f"/taxii2/default/status/{sid}/", headers=node.auth("energy-co-reader")).status_code == 200
