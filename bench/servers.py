"""Servers the benchmarks run side by side: an Accord node (SQLite or PostgreSQL) and medallion."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.nodeproc import NodeProcess, free_port  # noqa: E402


class Server:
    name: str
    objects_url: str
    auth: httpx.Auth | None = None
    headers: dict[str, str] = {}

    def stop(self) -> None:
        raise NotImplementedError


class AccordServer(Server):
    def __init__(self, name: str, database_url: str | None = None, workers: int = 1) -> None:
        self.name = name
        self.tmp = tempfile.TemporaryDirectory(prefix="accord-bench-")
        self.node = NodeProcess(Path(self.tmp.name) / "node", database_url, workers)
        assert self.node.admin_key
        self.headers = {"Authorization": f"Bearer {self.node.admin_key}"}
        self.objects_url = f"{self.node.url}/taxii2/default/collections/default/objects/"

    def stop(self) -> None:
        self.node.stop()
        self.tmp.cleanup()


class MedallionServer(Server):
    """medallion 3.0.0 (the OASIS reference TAXII 2.1 server), memory backend, via its own CLI."""

    def __init__(self, page_size: int) -> None:
        self.name = "medallion 3.0.0 (memory)"
        self.tmp = tempfile.TemporaryDirectory(prefix="medallion-bench-")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        collection = str(uuid.uuid4())
        data = {
            "/discovery": {"title": "bench", "default": f"{base}/api1/", "api_roots": [f"{base}/api1/"]},
            "api1": {
                "information": {"title": "api1", "versions": ["application/taxii+json;version=2.1"],
                                "max_content_length": 100 * 1024 * 1024},
                "status": [],
                "collections": [{"id": collection, "title": "bench", "can_read": True, "can_write": True,
                                 "media_types": ["application/stix+json;version=2.1"], "objects": [],
                                 "manifest": []}],
            },
        }
        data_file = Path(self.tmp.name) / "data.json"
        data_file.write_text(json.dumps(data))
        config = Path(self.tmp.name) / "config.json"
        config.write_text(json.dumps({
            "backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                        "filename": str(data_file)},
            "users": {"bench": "bench-password"},
            "taxii": {"max_page_size": page_size},
        }))
        medallion = Path(sys.executable).with_name("medallion")
        self.proc = subprocess.Popen([str(medallion), "--host", "127.0.0.1", "--port", str(port), str(config)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     env={**os.environ, "FLASK_ENV": "production"})
        self.auth = httpx.BasicAuth("bench", "bench-password")
        self.objects_url = f"{base}/api1/collections/{collection}/objects/"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{base}/taxii2/", auth=self.auth, timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("medallion did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.tmp.cleanup()
