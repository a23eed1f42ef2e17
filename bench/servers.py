"""Servers the benchmarks run side by side: an Accord node (SQLite or PostgreSQL) and medallion."""

from __future__ import annotations

import base64
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.nodeproc import NodeProcess  # noqa: E402
from tests.medallion import Medallion  # noqa: E402


class Server:
    name: str
    objects_url: str
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
        self.server = Medallion(Path(self.tmp.name), str(uuid.uuid4()), {"bench": "bench-password"}, page_size)
        self.headers = {"Authorization": "Basic " + base64.b64encode(b"bench:bench-password").decode()}
        self.objects_url = f"{self.server.root}collections/{self.server.collection}/objects/"

    def stop(self) -> None:
        self.server.stop()
        self.tmp.cleanup()
