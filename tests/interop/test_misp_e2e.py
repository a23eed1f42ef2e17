"""A MISP feed on a plain static http.server, imported by ``accord load --misp-feed`` into a running
node, then that node's own feed read over HTTP and loaded by PyMISP: real processes on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from pymisp import MISPEvent

from tests.e2e.nodeproc import NodeProcess, free_port, stop_process
from tests.interop.misp_events import write_feed
from tests.interop.test_misp_import import _feed_events

pytestmark = pytest.mark.e2e


def test_a_static_feed_in_and_the_nodes_feed_out(tmp_path: Path) -> None:
    events = _feed_events()
    root = write_feed(tmp_path / "feed", events)
    port = free_port()
    static = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                               "--directory", str(root)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    node = NodeProcess(tmp_path / "node")
    try:
        assert node.admin_key
        for _ in range(100):  # http.server is up when it answers
            try:
                httpx.get(f"http://127.0.0.1:{port}/manifest.json", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        load = subprocess.run([sys.executable, "-m", "accord", "load", "--misp-feed", f"http://127.0.0.1:{port}/",
                               "--json"], env={**os.environ, "ACCORD_DATA_DIR": str(tmp_path / "node")},
                              capture_output=True, timeout=120)
        assert load.returncode == 0, load.stderr.decode()
        report = json.loads(load.stdout.splitlines()[-1])
        assert report["events"] == 3 and report["failed"] == 0 and report["hashes"] == 6
        headers = {"Authorization": node.admin_key}  # as MISP sends a feed's custom header
        manifest = httpx.get(f"{node.url}/misp/feed/manifest.json", headers=headers, timeout=30)
        assert manifest.status_code == 200
        served = []
        for event_uuid in manifest.json():
            found = MISPEvent()
            found.load(httpx.get(f"{node.url}/misp/feed/{event_uuid}.json", headers=headers, timeout=30).text)
            served.append(found)
        assert sorted(e.uuid for e in served) == sorted(e.uuid for e in events)
        for sent in events:
            back = next(e for e in served if e.uuid == sent.uuid)
            assert back.info == sent.info
            assert sorted(a.value for a in back.attributes) == sorted(a.value for a in sent.attributes)
            assert {t.name for t in back.tags if t.name.startswith("tlp:")} == {
                t.name for t in sent.tags if t.name.startswith("tlp:")}
        hashes = httpx.get(f"{node.url}/misp/feed/hashes.csv", headers=headers, timeout=30).text.splitlines()
        assert sorted(hashes) == sorted((root / "hashes.csv").read_text().splitlines())
    finally:
        node.stop()
        stop_process(static)
