"""SQLite's write-ahead log is checkpointed beside the writers, not inside one of their commits
(accord.store.engine.WalCheckpointer)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from accord.bootstrap import _checkpoint_beside_writers
from accord.store.engine import INLINE_CHECKPOINT_PAGES, SAFETY_CHECKPOINT_PAGES, CheckpointPass
from accord.store.migrate import upgrade
from accord.store.repository import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(f"sqlite:///{tmp_path / 'accord.db'}")
    upgrade(s.engine)
    yield s
    s.close()


def _autocheckpoint(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one())


def _log_frames(store: Store) -> int:
    """Frames in the log now (a passive checkpoint reports them; it changes nothing a reader sees)."""
    with store.engine.connect() as conn:
        return int(conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()[1])


def _write(store: Store, n: int) -> None:
    for _ in range(n):
        with store.write():
            pass  # each write advances the write generation: a page of log


def test_commits_no_longer_checkpoint_while_it_runs(store: Store) -> None:
    assert _autocheckpoint(store) == INLINE_CHECKPOINT_PAGES
    checkpointer = store.checkpoint_in_background(every=3600)
    assert checkpointer is not None
    try:
        assert _autocheckpoint(store) == SAFETY_CHECKPOINT_PAGES  # only a safety net now
    finally:
        checkpointer.stop()
    assert _autocheckpoint(store) == INLINE_CHECKPOINT_PAGES


def test_a_pass_copies_the_log_and_a_finished_one_lets_the_next_write_start_it_afresh(store: Store) -> None:
    checkpointer = store.checkpoint_in_background(every=3600, min_frames=1_000_000)
    assert checkpointer is not None
    try:
        _write(store, 50)
        small = checkpointer.checkpoint()
        assert small.frames >= 50 and small.copied_beside == small.frames and not small.finished
    finally:
        checkpointer.stop()

    checkpointer = store.checkpoint_in_background(every=3600, min_frames=1)
    assert checkpointer is not None
    try:
        _write(store, 5)
        before = _log_frames(store)
        assert checkpointer.checkpoint().finished
        _write(store, 1)
        assert _log_frames(store) < before  # the write started the log from its beginning
    finally:
        checkpointer.stop()


def test_finishing_a_pass_waits_for_the_writer_in_progress(store: Store) -> None:
    checkpointer = store.checkpoint_in_background(every=3600, min_frames=1)
    assert checkpointer is not None
    _write(store, 5)  # frames for the pass to find
    inside, release = threading.Event(), threading.Event()

    def long_write() -> None:
        with store.write():
            inside.set()
            release.wait(10)

    writer = threading.Thread(target=long_write)
    writer.start()
    try:
        assert inside.wait(10)
        result: list[bool] = []
        passer = threading.Thread(target=lambda: result.append(checkpointer.checkpoint().finished))
        passer.start()
        passer.join(0.3)
        assert passer.is_alive()  # it copies what it can, then waits for the writer's turn
        release.set()
        passer.join(10)
        assert result == [True]
    finally:
        release.set()
        writer.join(10)
        checkpointer.stop()


def test_the_thread_runs_after_writes_only(store: Store) -> None:
    checkpointer = store.checkpoint_in_background(every=0.02)
    assert checkpointer is not None
    try:
        _write(store, 3)
        deadline = time.monotonic() + 10
        while checkpointer.passes == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert checkpointer.passes == 1
        time.sleep(0.2)  # ten periods without a write
        assert checkpointer.passes == 1
        _write(store, 1)
        deadline = time.monotonic() + 10
        while checkpointer.passes == 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert checkpointer.passes == 2
    finally:
        checkpointer.stop()


def test_no_checkpointer_in_memory() -> None:
    memory = Store.open("sqlite://")
    assert memory.checkpoint_in_background() is None


def test_a_serving_node_checkpoints_beside_its_writers(store: Store) -> None:
    app = Starlette()
    app.state.store = store
    _checkpoint_beside_writers(app)
    assert _autocheckpoint(store) == INLINE_CHECKPOINT_PAGES
    with TestClient(app):
        assert _autocheckpoint(store) == SAFETY_CHECKPOINT_PAGES
    assert _autocheckpoint(store) == INLINE_CHECKPOINT_PAGES  # stopped with the node


def test_a_failed_pass_is_logged_and_the_thread_goes_on(store: Store, monkeypatch: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    checkpointer = store.checkpoint_in_background(every=0.02)
    assert checkpointer is not None
    real = checkpointer.checkpoint
    calls = [0]

    def flaky() -> CheckpointPass:
        calls[0] += 1
        if calls[0] == 1:
            raise OSError("disk full")
        return real()

    monkeypatch.setattr(checkpointer, "checkpoint", flaky)
    try:
        _write(store, 1)
        deadline = time.monotonic() + 10
        while calls[0] < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        _write(store, 1)
        while checkpointer.passes == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert calls[0] == 2 and checkpointer.passes == 1
        assert "checkpointing the SQLite write-ahead log failed" in caplog.text
    finally:
        checkpointer.stop()
