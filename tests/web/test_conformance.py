"""TAXII 2.1 to the letter (issue 19) and HEAD never writes (trust defect 3), in process, on SQLite
and PostgreSQL; where a resource is parsed, through the OASIS taxii2-client itself."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient
from taxii2client.v21 import ApiRoot, Collection, Server, Status

from accord.domain.tlp import Tlp
from tests.conftest import Node
from tests.stixgen import TAXII, envelope, indicator
from tests.web.conftest import BASE, post
from tests.web.taxii_client import ORIGIN, connection

STIX = "application/stix+json;version=2.1"
UNKNOWN = "indicator--00000000-0000-4000-8000-00000000ffff"


def empty_lists(value: Any, path: str = "$") -> list[str]:
    """Where ``value`` holds an empty list: TAXII 2.1 section 2 prohibits them (a property with no
    entries is omitted)."""
    if isinstance(value, list):
        return [path] if not value else [p for n, v in enumerate(value) for p in empty_lists(v, f"{path}[{n}]")]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in empty_lists(v, f"{path}.{k}")]
    return []


def get(client: TestClient, node: Node, path: str, who: str = "energy-co", **params: Any) -> Any:
    return client.get(path, params=params, headers={**node.auth(who), "Accept": TAXII})


def default_collection(client: TestClient, node: Node) -> Collection:
    """Through the client's own API root (its Server hands API roots fresh connections, not ours)."""
    root = ApiRoot(ORIGIN + "/taxii2/default/", conn=connection(client, node.keys["energy-co"]))
    collection: Collection = root.collections[0]
    return collection


def stored(node: Node) -> tuple[int, list[Any]]:
    """How many object versions are stored, and the whole audit log."""
    with node.store.read() as tx:
        count = tx.conn.exec_driver_sql("SELECT count(*) FROM objects").scalar_one()
        return count, [record for record, _ in tx.audit_records()]


# --- 4.3.1 and 5.5: the status resource ------------------------------------------------------------

def test_status_of_add_objects_and_get_status_omits_empty_lists(client: TestClient, node: Node) -> None:
    ok = post(client, node, indicator(1))
    assert ok["success_count"] == 1 and len(ok["successes"]) == 1
    assert ok["failure_count"] == 0 and ok["pending_count"] == 0
    assert "failures" not in ok and "pendings" not in ok
    bad = post(client, node, {"type": "nonsense"})
    assert bad["failure_count"] == 1 and len(bad["failures"]) == 1
    assert "successes" not in bad and "pendings" not in bad
    for status in (ok, bad):
        again = get(client, node, f"/taxii2/default/status/{status['id']}/").json()
        assert again == status and empty_lists(again) == []


def test_a_status_stored_with_empty_lists_is_served_without_them(client: TestClient, node: Node) -> None:
    """Statuses are kept a week: those stored before the fix still hold ``[]``."""
    sid = post(client, node, indicator(1))["id"]
    with node.store.write() as tx:
        found = tx.get_status(sid)
        assert found is not None
        root_id, org_id, body = found
        old = {**orjson.loads(body), "id": "5c1d0d5e-8c3b-4a4e-9d6b-000000000001", "failures": [], "pendings": []}
        tx.save_status(old["id"], root_id, org_id, 0, orjson.dumps(old))
    served = get(client, node, f"/taxii2/default/status/{old['id']}/").json()
    assert empty_lists(served) == [] and served["successes"] == old["successes"]


def test_taxii2_client_receives_statuses_without_empty_lists(client: TestClient, node: Node) -> None:
    conn = connection(client, node.keys["energy-co"])
    collection = default_collection(client, node)
    status = collection.add_objects({"objects": [indicator(1), indicator(2)]})
    assert status.status == "complete" and status.success_count == 2 and status.pending_count == 0
    assert empty_lists(status._raw) == []
    polled = Status(f"{ORIGIN}/taxii2/default/status/{status.id}/", conn=conn)
    assert polled._raw == status._raw


# --- 5.2.1 and 5.3.1: media types ------------------------------------------------------------------

def test_taxii2_client_finds_every_manifest_media_type_announced(client: TestClient, node: Node) -> None:
    collection = default_collection(client, node)
    collection.add_objects({"objects": [indicator(1), indicator(2)]})
    assert collection.media_types == [STIX]
    records = collection.get_manifest()["objects"]
    assert len(records) == 2 and all(r["media_type"] in collection.media_types for r in records)


def test_collections_announce_the_stix_media_type(client: TestClient, node: Node) -> None:
    listed = get(client, node, "/taxii2/default/collections/").json()["collections"]
    assert [c["media_types"] for c in listed] == [[STIX]]
    assert get(client, node, BASE + "/").json()["media_types"] == [STIX]


# --- section 2: no TAXII resource holds an empty list ---------------------------------------------

def test_discovery_without_api_roots_omits_the_list(client: TestClient, node: Node) -> None:
    with node.store.write() as tx:
        for table in ("collection_access", "collections", "api_roots"):
            tx.conn.exec_driver_sql(f"DELETE FROM {table}")
    body = get(client, node, "/taxii2/").json()
    assert body["title"] and "api_roots" not in body and "default" not in body
    server = Server(ORIGIN + "/taxii2/", conn=connection(client, node.keys["energy-co"]))
    assert "api_roots" not in server._raw and server.api_roots == []


def test_versions_past_the_last_page_is_an_empty_resource(client: TestClient, node: Node) -> None:
    post(client, node, indicator(1), indicator(1, modified="2026-02-01T00:00:00.000Z"))
    oid = indicator(1)["id"]
    first = get(client, node, BASE + f"/objects/{oid}/versions/", limit=1).json()
    assert first["more"] is True
    past = get(client, node, BASE + f"/objects/{oid}/versions/", next="9" * 18)
    assert past.status_code == 200 and past.json() == {}
    assert default_collection(client, node).object_versions(oid, next="9" * 18) == {}


def test_no_taxii_resource_holds_an_empty_list(client: TestClient, node: Node) -> None:
    """Every resource the node returns, empty and filled: discovery, API root, collections,
    collection, manifest, envelopes, versions and status."""
    oid = indicator(1)["id"]
    paths = ["/taxii2/", "/taxii2/default/", "/taxii2/default/collections/", BASE + "/", BASE + "/manifest/",
             BASE + "/objects/"]
    bodies = [get(client, node, p).json() for p in paths]
    bodies.append(get(client, node, "/taxii2/default/collections/", who="outsider").json())
    sid = post(client, node, indicator(1), indicator(1, modified="2026-02-01T00:00:00.000Z"))["id"]
    paths += [BASE + f"/objects/{oid}/", BASE + f"/objects/{oid}/versions/", f"/taxii2/default/status/{sid}/"]
    bodies += [get(client, node, p).json() for p in paths]
    for path in (BASE + "/objects/", BASE + "/manifest/", BASE + f"/objects/{oid}/",
                 BASE + f"/objects/{oid}/versions/"):
        bodies += [get(client, node, path, limit=1).json(), get(client, node, path, next="9" * 18).json(),
                   get(client, node, path, **{"match[spec_version]": "2.0"}).json()]
    assert [(n, p) for n, b in enumerate(bodies) for p in empty_lists(b)] == []


# --- trust defect 3: HEAD never writes; 405 names what is allowed -----------------------------------

def test_head_with_a_body_does_not_store(client: TestClient, node: Node) -> None:
    post(client, node, indicator(1, tlp=Tlp.CLEAR))
    before = stored(node)
    r = client.request("HEAD", BASE + "/objects/", content=orjson.dumps(envelope(indicator(2, tlp=Tlp.CLEAR))),
                       headers={**node.auth("energy-co"), "Content-Type": TAXII, "Accept": TAXII})
    assert r.status_code == 200 and r.content == b""
    assert stored(node) == before
    assert [o["id"] for o in get(client, node, BASE + "/objects/").json()["objects"]] == [indicator(1)["id"]]


def test_head_answers_like_get_without_a_body(client: TestClient, node: Node) -> None:
    post(client, node, indicator(1, tlp=Tlp.CLEAR), indicator(2, tlp=Tlp.CLEAR))
    oid = indicator(1)["id"]
    h = {**node.auth("energy-co"), "Accept": TAXII}
    for path in ("/taxii2/", "/taxii2/default/collections/", BASE + "/objects/", BASE + "/manifest/",
                 BASE + f"/objects/{oid}/", BASE + f"/objects/{oid}/versions/", BASE + "/objects/?limit=1"):
        got, head = client.get(path, headers=h), client.head(path, headers=h)
        assert (head.status_code, head.content) == (got.status_code, b""), path
        assert dict(head.headers) == dict(got.headers), path


@pytest.mark.parametrize("method,path,allow", [
    ("PUT", BASE + "/objects/", "GET, HEAD, POST"),
    ("PATCH", BASE + f"/objects/{UNKNOWN}/", "DELETE, GET, HEAD"),
    ("DELETE", "/taxii2/", "GET, HEAD"),
    ("POST", "/taxii2/default/status/00000000-0000-4000-8000-000000000000/", "GET, HEAD"),
    ("HEAD", "/coordination/sweep", "POST"),
    ("DELETE", "/coordination/consultations", "GET, HEAD, POST"),  # two routes share the path
])
def test_every_405_carries_allow_and_a_taxii_error(client: TestClient, node: Node, method: str, path: str,
                                                    allow: str) -> None:
    before = stored(node)
    r = client.request(method, path, content=orjson.dumps(envelope(indicator(3))),
                       headers={**node.auth("energy-co"), "Content-Type": TAXII, "Accept": TAXII})
    assert r.status_code == 405 and r.headers["allow"] == allow
    assert r.headers["content-type"] == TAXII
    if method != "HEAD":
        assert r.json()["http_status"] == "405" and allow in r.json()["description"]
    assert stored(node) == before
