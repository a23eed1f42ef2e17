"""The TAXII 2.1 client and the cached feed against medallion 3.0.0 on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from accord.sensor.errors import TaxiiError
from accord.sensor.feeds import TaxiiFeed
from accord.sensor.taxii import TaxiiClient
from tests.medallion import medallion
from tests.sensor.helpers import accord, indicator, write_conn

COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
USER = ("sensor", "s3cret")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """medallion 3.0.0 on 127.0.0.1 (pages of 2, to exercise pagination); stopped afterwards."""
    with medallion(COLLECTION, {USER[0]: USER[1]}, page_size=2) as m:
        yield m.base


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
