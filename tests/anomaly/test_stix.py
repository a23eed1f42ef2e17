"""STIX objects validated by the stix2 library, and posted to a real TAXII 2.1 server (medallion)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import stix2

from accord.sensor.anomaly.alerts import Anomaly
from accord.sensor.anomaly.errors import AnomalyError
from accord.sensor.anomaly.explain import Reason
from accord.sensor.anomaly.publish import PublishError, post_objects
from accord.sensor.anomaly.stix import TLP, bundle, report_objects

COLLECTION = "9cfa669c-ee94-4ece-afd2-f8edac37d8fd"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def anomaly(src: str = "198.51.100.23", dst: str = "192.0.2.7", row: int = 0) -> Anomaly:
    reason = Reason("host_dst_ports", 0.7, "far more connections to distinct ports (48 vs 2)")
    return Anomaly(row, 4.2, 1.1, 80, (reason,), src, dst, 51234, 22, "tcp", 1_545_403_816.96)


def test_objects_are_valid_stix_with_the_source_address_and_the_chosen_tlp() -> None:
    objects = report_objects([anomaly()], "amber+strict", now=NOW)
    parsed = stix2.parse(bundle(objects), allow_custom=False)
    by_type = {o.type: o for o in parsed.objects}
    assert set(by_type) == {"observed-data", "network-traffic", "ipv4-addr", "note"}
    assert all(o.object_marking_refs == [TLP["amber+strict"]] for o in parsed.objects)
    traffic = by_type["network-traffic"]
    addresses = {o.id: o.value for o in parsed.objects if o.type == "ipv4-addr"}
    assert addresses[traffic.src_ref] == "198.51.100.23" and traffic.dst_port == 22
    assert traffic.id in by_type["observed-data"].object_refs
    assert by_type["note"].confidence == 80 and "distinct ports" in by_type["note"].content
    assert by_type["note"].object_refs == [by_type["observed-data"].id]


def test_the_same_anomaly_gives_the_same_ids_and_a_shared_address_is_sent_once() -> None:
    first = report_objects([anomaly(row=1), anomaly(dst="192.0.2.8", row=2)], "green", now=NOW)
    again = report_objects([anomaly(row=1), anomaly(dst="192.0.2.8", row=2)], "green", now=NOW)
    assert first == again
    assert sum(o["type"] == "ipv4-addr" for o in first) == 3
    stix2.parse(bundle(first), allow_custom=False)


def test_ipv6_addresses_and_flows_without_addresses() -> None:
    objects = report_objects([anomaly(src="2001:db8::1"), anomaly(src="", row=3)], "clear", now=NOW)
    assert [o["value"] for o in objects if o["type"] == "ipv6-addr"] == ["2001:db8::1"]
    assert sum(o["type"] == "observed-data" for o in objects) == 1
    with pytest.raises(AnomalyError, match="unknown TLP"):
        report_objects([anomaly()], "white")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def taxii_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """medallion 3.0.0 on 127.0.0.1 with one writable collection; stopped after the module."""
    if shutil.which("medallion", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("medallion (a test dependency) is not installed")
    port, home = _free_port(), tmp_path_factory.mktemp("taxii")
    root = f"http://127.0.0.1:{port}/api1/"
    data = {
        "/discovery": {"title": "test", "default": root, "api_roots": [root]},
        "api1": {
            "information": {
                "title": "api1",
                "versions": ["application/taxii+json;version=2.1"],
                "max_content_length": 10_485_760,
            },
            "status": [],
            "collections": [
                {
                    "id": COLLECTION,
                    "title": "sightings",
                    "can_read": True,
                    "can_write": True,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": [],
                    "manifest": [],
                }
            ],
        },
    }
    (home / "data.json").write_text(json.dumps(data))
    backend = {
        "module": "medallion.backends.memory_backend",
        "module_class": "MemoryBackend",
        "filename": str(home / "data.json"),
    }
    (home / "config.json").write_text(json.dumps({"backend": backend, "users": {"sensor": "s3cret"}}))
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "medallion"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            str(home / "config.json"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(
                    f"{root}",
                    auth=("sensor", "s3cret"),
                    timeout=1,
                    headers={"Accept": "application/taxii+json;version=2.1"},
                )
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("medallion did not start within 20 s")
                time.sleep(0.2)
        yield root
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_anomalies_are_stored_by_a_real_taxii_server(taxii_server: str) -> None:
    objects = report_objects([anomaly(row=1), anomaly(dst="192.0.2.9", row=2)], "amber", now=NOW)
    sent = post_objects(objects, taxii_server, COLLECTION, basic=("sensor", "s3cret"))
    assert (sent.success, sent.failure) == (len(objects), 0)
    stored = httpx.get(
        f"{taxii_server}collections/{COLLECTION}/objects/",
        auth=("sensor", "s3cret"),
        headers={"Accept": "application/taxii+json;version=2.1"},
    ).json()["objects"]
    assert {o["id"] for o in objects} <= {o["id"] for o in stored}
    assert "198.51.100.23" in {o.get("value") for o in stored}


def test_a_refused_post_is_a_clear_error(taxii_server: str) -> None:
    with pytest.raises(PublishError, match="HTTP 401"):
        post_objects(
            report_objects([anomaly()], "red", now=NOW),
            taxii_server,
            COLLECTION,
            basic=("sensor", "wrong"),
        )
