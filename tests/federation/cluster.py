"""Real ``accord serve`` processes linked as federation peers, for the end-to-end tests and the bench.

Each node is its own process on its own 127.0.0.1 port and data directory; links are configured
through the same service functions the ``accord peer`` commands call, on the node's own database
(the CLI does exactly that). A node can be stopped, killed with SIGKILL and restarted on its port.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx

from accord.bootstrap import open_store
from accord.config import Settings
from accord.domain.tlp import Tlp
from accord.federation import peers as fed
from accord.federation.model import PeerKind
from accord.stix.timestamps import timestamp_key
from accord.store.repository import Store
from tests.e2e.nodeproc import free_port

TAXII = "application/taxii+json;version=2.1"
ALL_SHAREABLE = frozenset({Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER})


class Node:
    def __init__(self, name: str, data_dir: Path, admin_key: str = "", database_url: str | None = None) -> None:
        """``admin_key``: for a data directory initialised already (a copy of another node's);
        ``database_url``: PostgreSQL instead of the embedded SQLite."""
        self.name, self.data_dir, self.database_url = name, data_dir, database_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.admin_key = admin_key
        self._store: Store | None = None
        self.start()

    def start(self) -> None:
        env = {**os.environ, "ACCORD_DATA_DIR": str(self.data_dir)}
        env.pop("ACCORD_DATABASE_URL", None)
        if self.database_url:
            env["ACCORD_DATABASE_URL"] = self.database_url
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "accord", "serve", "--json", "--port", str(self.port)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        if not self.admin_key:
            first = self.proc.stdout.readline() if self.proc.stdout else b""
            self.admin_key = json.loads(first)["api_key"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"node {self.name} exited with {self.proc.returncode}")
            try:
                if httpx.get(self.url + "/federation/identity/", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"node {self.name} did not start in time")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=15)

    @property
    def store(self) -> Store:
        if self._store is None:
            # as the node opens it: secrets key included
            self._store = open_store(Settings(self.data_dir, self.database_url))
        return self._store

    def close(self) -> None:
        self.stop()
        if self._store is not None:
            self._store.close()

    def headers(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.admin_key}", "Accept": TAXII, "Content-Type": TAXII}

    def post(self, objects: list[dict[str, Any]], key: str | None = None) -> dict[str, Any]:
        resp = httpx.post(f"{self.url}/taxii2/default/collections/default/objects/", headers=self.headers(key),
                          content=json.dumps({"objects": objects}), timeout=60)
        assert resp.status_code == 202, resp.text
        result: dict[str, Any] = resp.json()
        return result

    def held(self) -> set[tuple[str, str]]:
        with self.store.read() as tx:
            return tx.held_versions()

    def count(self) -> int:
        with self.store.read() as tx:
            return tx.count_objects()

    def fingerprint(self) -> str:
        return str(httpx.get(self.url + "/federation/identity/", timeout=5).json()["fingerprint"])


def link(a: Node, b: Node, levels: frozenset[Tlp] = ALL_SHAREABLE, groups: Iterable[str] = ()) -> None:
    """Peer two nodes both ways with the same agreement, fingerprints checked as an operator would."""
    _, key_b_uses_at_a = fed.add_peer(a.store, b.name, b.url, PeerKind.NODE, b.fingerprint(), ["default"], levels,
                                      list(groups), "default", "default", None)
    _, key_a_uses_at_b = fed.add_peer(b.store, a.name, a.url, PeerKind.NODE, a.fingerprint(), ["default"], levels,
                                      list(groups), "default", "default", key_b_uses_at_a)
    fed.set_peer(a.store, b.name, credential=key_a_uses_at_b)


def trust(at: Node, origin: Node) -> None:
    """Register an origin's keys without a link (to verify what others relay from it)."""
    fed.add_peer(at.store, origin.name, origin.url, PeerKind.NODE, origin.fingerprint(), ["default"],
                 frozenset(), [], "default", "default", None)


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll ``check`` until true; returns the seconds it took; fails the test after ``timeout``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def version_of(obj: dict[str, Any]) -> tuple[str, str]:
    """(id, version) as the store keys it."""
    return str(obj["id"]), timestamp_key(obj["modified"])


def pull_key(puller: Node, source: Node) -> str:
    """The credential ``puller``'s node presents when it pulls from ``source`` (after :func:`link`)."""
    with puller.store.read() as tx:
        found = tx.find_peer(source.name)
    assert found is not None and found.credential
    return found.credential


def signed_page(node: Node, key: str, token: str, limit: int) -> dict[str, Any]:
    """One page of ``node``'s signed view of the default collection, as a peer with ``key`` pulls it."""
    resp = httpx.get(f"{node.url}/federation/taxii2/default/collections/default/objects/",
                     params={"next": token, "limit": limit}, headers=node.headers(key), timeout=60)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body
