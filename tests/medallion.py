"""medallion 3.0.0, the OASIS reference TAXII 2.1 server, as a real process on 127.0.0.1.

Run through its own command line in a subprocess: its Flask application is a module-level global
that refuses to be configured twice in one process, so in-process servers in two test modules
break each other. Used by the sensor, federation and benchmark code alike.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.e2e.nodeproc import free_port, stop_process


class Medallion:
    """A medallion server with one API root (``api1``) and one writable collection, memory backend."""

    def __init__(self, home: Path, collection: str, users: dict[str, str], page_size: int = 100) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/"
        self.root = f"{self.base}api1/"
        self.collection = collection
        data = {
            "/discovery": {"title": "medallion", "default": self.root, "api_roots": [self.root]},
            "api1": {
                "information": {"title": "api1", "versions": ["application/taxii+json;version=2.1"],
                                "max_content_length": 100 * 1024 * 1024},
                "status": [],
                "collections": [{"id": collection, "title": "collection", "can_read": True, "can_write": True,
                                 "media_types": ["application/stix+json;version=2.1"], "objects": [],
                                 "manifest": []}],
            },
        }
        (home / "data.json").write_text(json.dumps(data))
        (home / "config.json").write_text(json.dumps({
            "backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                        "filename": str(home / "data.json")},
            "users": users,
            "taxii": {"max_page_size": page_size},
        }))
        command = Path(sys.executable).with_name("medallion")
        self.proc = subprocess.Popen([str(command), "--host", "127.0.0.1", "--port", str(self.port),
                                      str(home / "config.json")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        user, password = next(iter(users.items()))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"medallion exited with {self.proc.returncode}")
            try:
                httpx.get(f"{self.base}taxii2/", auth=(user, password), timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("medallion did not start listening in time")

    def stop(self) -> None:
        stop_process(self.proc)


@contextmanager
def medallion(collection: str, users: dict[str, str], page_size: int = 100) -> Iterator[Medallion]:
    with tempfile.TemporaryDirectory(prefix="medallion-") as home:
        server = Medallion(Path(home), collection, users, page_size)
        try:
            yield server
        finally:
            server.stop()
