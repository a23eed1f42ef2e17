from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from accord.web.app import create_app
from tests.conftest import Node

BASE = "/taxii2/default/collections/default"


@pytest.fixture
def client(node: Node) -> Iterator[TestClient]:
    with TestClient(create_app(node.store)) as c:
        yield c
