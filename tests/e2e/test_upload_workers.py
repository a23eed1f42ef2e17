"""A console upload against three API workers on PostgreSQL: every request on a new connection, so
the pieces, the finish and the progress polls land on whichever worker the kernel picks. The job is
in the store, so it makes no difference which."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.nodeproc import NodeProcess
from tests.pgserver import PgServer

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
HTML = {"Accept": "text/html"}


def _signed_in(url: str, key: str) -> tuple[httpx.Client, str]:
    """A client with a console session (no connection kept between requests) and its CSRF token."""
    c = httpx.Client(base_url=url, timeout=60, limits=httpx.Limits(max_keepalive_connections=0))
    token = re.search(r'name="signin_token" value="([^"]+)"', c.get("/signin", headers=HTML).text)
    assert token
    r = c.post("/signin", data={"signin_token": token.group(1), "method": "key", "key": key}, headers=HTML)
    assert r.status_code == 303, r.text
    csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', c.get("/upload", headers=HTML).text)
    assert csrf
    return c, csrf.group(1)


def test_an_upload_in_pieces_across_three_workers(tmp_path: Path, pg_server: PgServer | None) -> None:
    if pg_server is None:
        pytest.skip("PostgreSQL is not installed (make test installs it)")
    node = NodeProcess(tmp_path / "node", pg_server.create_database("uploads"), workers=3)
    try:
        assert node.admin_key
        c, csrf = _signed_in(node.url, node.admin_key)
        raw = b"\n".join(f"203.0.{i // 250}.{i % 250 + 1}".encode() for i in range(3000))
        try:
            started = c.post("/upload/start", data={"csrf": csrf, "kind": "list", "collection": "default",
                                                    "tlp": "TLP:GREEN", "name": "iocs.txt", "size": str(len(raw))})
            assert started.status_code == 201, started.text
            job = started.json()["job"]
            for offset in range(0, len(raw), 2048):
                r = c.post(f"/upload/{job}/piece", content=raw[offset:offset + 2048],
                           headers={"X-CSRF-Token": csrf, "Content-Type": "application/octet-stream"})
                assert r.status_code == 200, r.text
            assert c.post(f"/upload/{job}/finish", headers={"X-CSRF-Token": csrf}).status_code == 202
            deadline, status = time.monotonic() + 120, {"state": "storing"}
            while status["state"] == "storing" and time.monotonic() < deadline:
                status = c.get(f"/upload/{job}/status").json()
                time.sleep(0.1)
        finally:
            c.close()
        assert status["state"] == "done", status
        assert status["stored"] == 3000 and status["pieces"] == -(-len(raw) // 2048)
    finally:
        node.stop()
