"""The SQLite writer queue: writers in threads and in other processes take turns, and the next one
goes as soon as the previous one is done (no busy-handler sleeps)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from accord.store.engine import WriterQueue


def test_threads_take_turns(tmp_path: Path) -> None:
    queue = WriterQueue(str(tmp_path / "accord.db"))
    inside = 0
    most = 0
    lock = threading.Lock()

    def writer() -> None:
        nonlocal inside, most
        for _ in range(200):
            with queue.turn():
                with lock:
                    inside += 1
                    most = max(most, inside)
                time.sleep(0)
                with lock:
                    inside -= 1

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert most == 1


def test_another_process_holds_the_turn(tmp_path: Path) -> None:
    db = tmp_path / "accord.db"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from accord.store.engine import WriterQueue\n"
         f"q = WriterQueue({str(db)!r})\n"
         "with q.turn():\n    print('held', flush=True); time.sleep(0.5)\n"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        start = time.monotonic()
        with WriterQueue(str(db)).turn():
            waited = time.monotonic() - start
        assert 0.2 < waited < 10, waited  # blocked until the other process let go, then went at once
    finally:
        holder.wait(timeout=30)


def test_in_memory_database_needs_no_file(tmp_path: Path) -> None:
    queue = WriterQueue(":memory:")
    with queue.turn():
        pass
    assert list(tmp_path.iterdir()) == []
