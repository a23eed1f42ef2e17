"""The TAXII 2.1 client and the cached feed against medallion 3.0.0 served in-process on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from accord.sensor.errors import TaxiiError
from accord.sensor.feeds import TaxiiFeed
from accord.sensor.taxii import TaxiiClient
from tests.sensor.helpers import accord, indicator, write_conn

COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
USER = ("sensor", "s3cret")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """medallion's Flask app on a werkzeug server thread (port chosen by the OS); shut down afterwards."""
    medallion = pytest.importorskip("medallion", reason="medallion is a test dependency")
    from werkzeug.serving import make_server

    home = tmp_path_factory.mktemp("medallion")
    server = make_server("127.0.0.1", 0, medallion.application_instance, threaded=True)
    root = f"http://127.0.0.1:{server.server_port}/api1/"
    collection = {
        "id": COLLECTION,
        "title": "indicators",
        "can_read": True,
        "can_write": True,
        "media_types": ["application/stix+json;version=2.1"],
        "objects": [],
        "manifest": [],
    }
    data = {
        "/discovery": {"title": "t", "default": root, "api_roots": [root]},
        "api1": {
            "information": {
                "title": "api1",
                "versions": ["application/taxii+json;version=2.1"],
                "max_content_length": 10_000_000,
            },
            "status": [],
            "collections": [collection],
        },
    }
    (home / "data.json").write_text(json.dumps(data))
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(home / "data.json"),
        },
        "users": {USER[0]: USER[1]},
        "taxii": {"max_page_size": 2},
    }
    (home / "config.json").write_text(json.dumps(config))
    medallion.load_app(str(home / "config.json"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_discovery_collections_post_and_paginated_get(server: str) -> None:
    client = TaxiiClient(server, auth=USER)
    root = client.default_api_root()
    assert root.endswith("/api1/")
    assert [c["id"] for c in client.collections(root)] == [COLLECTION]
    objects = [indicator(f"[ipv4-addr:value = '198.51.100.{i}']") for i in range(5)]
    status = client.wait(root, client.add_objects(root, COLLECTION, objects), timeout=10)
    assert status["status"] == "complete" and status["success_count"] == 5
    pages = list(client.pages(root, COLLECTION))
    assert len(pages) == 3  # max_page_size 2: 2 + 2 + 1, following "next"
    assert {o["id"] for p in pages for o in p.objects} == {o["id"] for o in objects}
    assert pages[-1].added_last is not None


def test_feed_cache_fetches_only_what_was_added(server: str, tmp_path: Path) -> None:
    client = TaxiiClient(server, auth=USER)
    root = client.default_api_root()
    first = TaxiiFeed(client, COLLECTION, tmp_path)
    known = {o["id"] for o in first.objects()}
    assert first.fetched == len(known) > 0
    time.sleep(0.01)  # medallion's date_added has millisecond resolution
    new = indicator("[domain-name:value = 'late.example']")
    client.wait(root, client.add_objects(root, COLLECTION, [new]), timeout=10)
    restarted = TaxiiFeed(TaxiiClient(server, auth=USER), COLLECTION, tmp_path)
    ids = {o["id"] for o in restarted.objects()}
    assert restarted.fetched == 1 and ids == known | {new["id"]}


def test_errors_name_the_url(server: str) -> None:
    with pytest.raises(TaxiiError, match="HTTP 401"):
        TaxiiClient(server, auth=("sensor", "wrong")).collections(server + "api1/")
    with pytest.raises(TaxiiError, match="cannot reach"):
        TaxiiClient("http://127.0.0.1:9/", timeout=1).collections("http://127.0.0.1:9/api1/")


def test_match_reads_indicators_from_taxii_and_posts_sightings(server: str, tmp_path: Path) -> None:
    client = TaxiiClient(server, auth=USER)
    root = client.default_api_root()
    wanted = indicator("[ipv4-addr:value = '203.0.113.77']")
    client.wait(root, client.add_objects(root, COLLECTION, [wanted]), timeout=10)
    log = write_conn(tmp_path, [("1700000000.0", "10.0.0.1", "203.0.113.77"), ("1700000001.0", "10.0.0.2", "x")])
    me = "identity--00000000-0000-4000-8000-0000000000aa"
    result = accord(
        "match",
        log,
        "--node",
        server,
        "--collection",
        COLLECTION,
        "--basic-auth",
        "sensor:s3cret",
        "--cache-dir",
        tmp_path / "cache",
        "--identity",
        me,
        "--sightings-collection",
        COLLECTION,
    )
    assert result.exit_code == 0, result.output
    assert [orjson.loads(line)["indicator"] for line in result.stdout.splitlines()] == [wanted["id"]]
    assert "1 accepted, 0 refused" in result.stderr
    stored = [o for p in client.pages(root, COLLECTION) for o in p.objects if o["type"] == "sighting"]
    assert [(s["sighting_of_ref"], s["count"], s["where_sighted_refs"]) for s in stored] == [(wanted["id"], 1, [me])]
