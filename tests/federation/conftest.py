from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.federation.cluster import Node


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[Callable[[str], Node]]:
    """Start nodes by name; every one is stopped when the test ends, whatever happens."""
    started: list[Node] = []

    def start(name: str) -> Node:
        node = Node(name, tmp_path / name)
        started.append(node)
        return node

    try:
        yield start
    finally:
        for node in started:
            node.close()
