"""A serving node tunes the cyclic garbage collector once it has started (accord.bootstrap)."""

from __future__ import annotations

import gc

from starlette.applications import Starlette
from starlette.testclient import TestClient

from accord.bootstrap import GC_THRESHOLDS, _collect_less


def test_started_node_freezes_its_heap_and_collects_less_often() -> None:
    before = gc.get_threshold()
    app = Starlette()
    _collect_less(app)
    try:
        assert gc.get_threshold() == before  # nothing happens before the node starts
        with TestClient(app):
            assert gc.get_threshold() == GC_THRESHOLDS
            assert gc.get_freeze_count() > 0
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
