from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.federation.cluster import Node

_databases = itertools.count()


@pytest.fixture
def nodes(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[str], Node]]:
    """Start nodes by name; every one is stopped when the test ends, whatever happens.

    Each node keeps its data in SQLite, or, for a test parametrised with ``indirect=["nodes"]`` and
    "postgresql", in its own database on the test PostgreSQL server."""
    backend = getattr(request, "param", "sqlite")
    server = None
    if backend == "postgresql":
        server = request.getfixturevalue("pg_server")
        if server is None:
            pytest.skip("PostgreSQL is not installed (make test installs it)")
    started: list[Node] = []

    def start(name: str) -> Node:
        url = None if server is None else server.create_database(f"fed_{os.getpid()}_{next(_databases)}_{name.lower()}")
        node = Node(name, tmp_path / name, database_url=url)
        started.append(node)
        assert node.store.backend == backend  # the test opens the database the node serves from
        return node

    try:
        yield start
    finally:
        for node in started:
            node.close()


BOTH_BACKENDS = pytest.mark.parametrize(
    "nodes", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
