"""The official OASIS client (taxii2-client) against a real node process, unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
from taxii2client.v21 import ApiRoot, Collection, Server, Status, as_pages

from tests.e2e.nodeproc import NodeProcess
from tests.stixgen import indicator

pytestmark = pytest.mark.e2e


def test_round_trip_with_taxii2_client(running: NodeProcess) -> None:
    assert running.admin_key
    server = Server(f"{running.url}/taxii2/", user="admin", password=running.admin_key)
    assert server.title == "Accord node"
    root: ApiRoot = server.default
    assert root.versions == ["application/taxii+json;version=2.1"]
    collection: Collection = root.collections[0]
    assert collection.can_read and collection.can_write

    v1, v2 = indicator(1), indicator(1, modified="2026-03-01T00:00:00.000Z", name="changed")
    status = collection.add_objects({"objects": [v1, v2, indicator(2), {"type": "nonsense"}]})
    assert status.status == "complete"
    assert status.success_count == 3 and status.failure_count == 1
    polled = Status(f"{running.url}/taxii2/default/status/{status.id}/", user="admin", password=running.admin_key)
    polled.wait_until_final(poll_interval=0.1, timeout=10)  # the client's own status polling (TAXII 4.3)
    assert polled.status == "complete" and polled.total_count == 4
    assert {s["id"] for s in polled.successes} == {v1["id"], indicator(2)["id"]}
    assert "missing required property 'id'" in polled.failures[0]["message"]

    got = collection.get_objects()
    assert {o["id"] for o in got["objects"]} == {v1["id"], indicator(2)["id"]}
    assert v2 in got["objects"]
    manifest = collection.get_manifest()
    assert len(manifest["objects"]) == 2
    versions = collection.object_versions(v1["id"])
    assert versions["versions"] == [v1["modified"], v2["modified"]]
    assert collection.get_object(v1["id"], version="first")["objects"] == [v1]

    pages = list(as_pages(collection.get_objects, per_request=1))
    assert sum(len(p.get("objects", [])) for p in pages) == 2

    collection.delete_object(indicator(2)["id"])
    assert [o["id"] for o in collection.get_objects()["objects"]] == [v1["id"]]


def test_wrong_password_is_refused_by_the_real_server(running: NodeProcess) -> None:
    from taxii2client.exceptions import TAXIIServiceException

    server = Server(f"{running.url}/taxii2/", user="admin", password="acc_0000000000000000_wrong")
    with pytest.raises((TAXIIServiceException, Exception)) as info:
        _ = server.title
    assert "401" in str(info.value)


def test_the_admin_key_is_shown_on_first_start_only(tmp_path: Path) -> None:
    first = NodeProcess(tmp_path / "node")
    first.stop()
    second = NodeProcess(tmp_path / "node")
    try:
        assert first.admin_key and second.admin_key is None
        server = Server(f"{second.url}/taxii2/", user="admin", password=first.admin_key)
        assert server.default.collections[0].can_write
    finally:
        second.stop()
