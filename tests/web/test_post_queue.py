"""POSTs to a worker are processed one at a time (accord.web.taxii._writer_limiter); reads are not held
up behind them."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
import pytest

from accord.services import objects as svc
from accord.web.app import create_app
from tests.conftest import Node
from tests.stixgen import TAXII, envelope, indicator
from tests.web.conftest import BASE


def test_posts_are_processed_one_at_a_time(node: Node, monkeypatch: pytest.MonkeyPatch) -> None:
    inside, most = [0], [0]
    lock = threading.Lock()
    real = svc.add_objects

    def slow_add(*args: Any) -> Any:
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(0.05)
        try:
            return real(*args)
        finally:
            with lock:
                inside[0] -= 1

    monkeypatch.setattr(svc, "add_objects", slow_add)
    headers = {**node.auth("energy-co"), "Content-Type": TAXII, "Accept": TAXII}

    async def run() -> list[int]:
        transport = httpx.ASGITransport(app=create_app(node.store))
        async with httpx.AsyncClient(transport=transport, base_url="http://node") as client:
            posts = [client.post(BASE + "/objects/", json=envelope(indicator(n)), headers=headers) for n in range(4)]
            read = client.get(BASE + "/objects/", headers={**node.auth("energy-co"), "Accept": TAXII})
            responses = await asyncio.gather(*posts, read)
        return [r.status_code for r in responses]

    assert asyncio.run(run()) == [202, 202, 202, 202, 200]
    assert most[0] == 1
