"""Several stateless API workers on PostgreSQL: writers in parallel, a reader paging with ``next``
sees every object exactly once (date_added follows commit order under the write lock)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.nodeproc import NodeProcess
from tests.pgserver import PgServer
from tests.stixgen import TAXII, indicator

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


def test_parallel_writers_and_a_paging_reader(tmp_path: Path, pg_server: PgServer | None) -> None:
    if pg_server is None:
        pytest.skip("PostgreSQL is not installed (make test installs it)")
    node = NodeProcess(tmp_path / "node", pg_server.create_database("workers"), workers=3)
    try:
        assert node.admin_key
        headers = {"Authorization": f"Bearer {node.admin_key}", "Accept": TAXII, "Content-Type": TAXII}
        url = f"{node.url}/taxii2/default/collections/default/objects/"
        errors: list[BaseException] = []

        def writer(first: int) -> None:
            try:
                with httpx.Client(headers=headers, timeout=60) as c:
                    for start in range(first, first + 200, 20):
                        body = {"objects": [indicator(i) for i in range(start, start + 20)]}
                        r = c.post(url, json=body)
                        assert r.status_code == 202 and r.json()["success_count"] == 20, r.text
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(k * 1000,)) for k in range(3)]
        for t in threads:
            t.start()
        seen: list[str] = []
        params: dict[str, Any] = {"limit": 7}
        with httpx.Client(headers=headers, timeout=60) as reader:
            for _ in range(2000):  # bounded: 600 objects in pages of 7, plus waits for writers
                body = reader.get(url, params=params).json()
                seen += [o["id"] for o in body.get("objects", [])]
                if body.get("more"):
                    params = {"limit": 7, "next": body["next"]}
                elif all(not t.is_alive() for t in threads) and len(seen) >= 600:
                    break
                elif seen:
                    last = reader.get(url, params={"limit": 1, "match[id]": seen[-1]})
                    params = {"limit": 7, "added_after": last.headers["X-TAXII-Date-Added-Last"]}
        for t in threads:
            t.join(timeout=60)
        assert not errors, errors
        assert len(seen) == len(set(seen)) == 600
    finally:
        node.stop()
