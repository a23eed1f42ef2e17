from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from accord.web.app import create_app
from tests.conftest import Node
from tests.stixgen import TAXII, envelope

BASE = "/taxii2/default/collections/default"


@pytest.fixture
def client(node: Node) -> Iterator[TestClient]:
    with TestClient(create_app(node.store)) as c:
        yield c


def post(client: TestClient, node: Node, *objects: Any) -> dict[str, Any]:
    """Add Objects as energy-co; the status it answers (202 asserted)."""
    r = client.post(BASE + "/objects/", json=envelope(*objects),
                    headers={**node.auth("energy-co"), "Content-Type": TAXII, "Accept": TAXII})
    assert r.status_code == 202, r.text
    body: dict[str, Any] = r.json()
    return body
