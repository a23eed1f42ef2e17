"""A real ``accord serve`` process for a test (tests/e2e/nodeproc.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.nodeproc import NodeProcess


@pytest.fixture
def running(tmp_path: Path) -> Iterator[NodeProcess]:
    node = NodeProcess(tmp_path / "node")
    try:
        yield node
    finally:
        node.stop()
