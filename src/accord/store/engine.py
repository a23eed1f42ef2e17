"""Engines for SQLite (embedded default) and PostgreSQL, and the node-wide write lock.

SQLite runs in WAL mode with ``synchronous=NORMAL``: a killed process (``kill -9``) loses nothing,
and only an operating-system crash or power loss can lose the last transactions before a checkpoint
(docs/running.md says so). Writes start with ``BEGIN IMMEDIATE`` so that two writers queue on the
busy timeout instead of failing when a read transaction tries to upgrade.

SQLite's busy handler waits by sleeping with a growing back-off (1, 2, 5, 10 ... 100 ms), so writers
that merely queued on it lost most of their time asleep after the lock was free (an API worker's
threads and several workers contend for it on every POST). Writers therefore first queue on a
:class:`WriterQueue`: a thread lock in the process and an ``flock`` on ``<database>-writer`` across
processes, both of which wake the next writer as soon as the previous one commits. ``BEGIN
IMMEDIATE`` and the busy timeout remain underneath, for writers outside this queue (an older process,
the ``sqlite3`` shell).

On PostgreSQL every write transaction first takes one transaction-scoped advisory lock. Writes are
therefore serial across all API workers, which is what keeps ``date_added`` increasing in commit
order, so a client paging with ``next`` or ``added_after`` never skips an object committed late.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import NullPool

_log = logging.getLogger(__name__)

WRITE_LOCK_KEY = 0x4143_4344  # "ACCD"
INLINE_CHECKPOINT_PAGES = 8192
SAFETY_CHECKPOINT_PAGES = 131_072
_BACKGROUND: set[str] = set()  # SQLite URLs whose log a WalCheckpointer in this process checkpoints


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, pool_size: int = 8) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _sqlite_engine(url: str) -> Engine:
    memory = url in ("sqlite://", "sqlite:///:memory:")
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 60},
        poolclass=NullPool if memory else None,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy's begin event below issues BEGIN itself
        cur = dbapi_conn.cursor()
        # 8 KiB pages (SQLite's default is 4): an object row is about 1.1 KB, and each commit of
        # 100 objects writes every page it touched to the write-ahead log; with 8 KiB pages it
        # touches fewer, and ingest at 1,000,000 objects took 50-53 instead of 54-60 us of CPU per
        # object (docs/benchmarks.md). It applies when the database file is created; an existing
        # node keeps its page size (docs/running.md says how to change it).
        for pragma in (
            "page_size=8192",
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "busy_timeout=60000",
            "cache_size=-65536",
            "mmap_size=1073741824",
            "temp_store=MEMORY",
            # after a checkpoint restarts the log, the file is cut back to 64 MiB
            "journal_size_limit=67108864",
            # pages of log before the committing connection checkpoints it: 64 MiB, or far more where
            # a WalCheckpointer does it beside the writers (then this is only a safety net)
            f"wal_autocheckpoint={_checkpoint_pages(engine)}",
        ):
            cur.execute("PRAGMA " + pragma)
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # straight to the driver: through exec_driver_sql the statement cost about 20 us of
        # SQLAlchemy's execution machinery, more than the rest of a small read transaction
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.execute("BEGIN IMMEDIATE" if conn.get_execution_options().get("accord_write") else "BEGIN")

    return engine


def _checkpoint_pages(engine: Engine) -> int:
    return SAFETY_CHECKPOINT_PAGES if str(engine.url) in _BACKGROUND else INLINE_CHECKPOINT_PAGES


class WriterQueue:
    """Queue of SQLite writers: a thread lock, then an exclusive ``flock`` on a file beside the database."""

    def __init__(self, database: str | None) -> None:
        self._thread_lock = threading.Lock()
        self._path = None if database in (None, "", ":memory:") else f"{database}-writer"
        self._fd: int | None = None
        self._pid = 0

    @property
    def shared(self) -> bool:
        """Whether the database is a file other processes may write too (not in memory)."""
        return self._path is not None

    def _file(self) -> int | None:
        if self._path is None:
            return None
        if self._fd is None or self._pid != os.getpid():  # a forked worker opens its own description
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    @contextmanager
    def turn(self) -> Iterator[None]:
        with self._thread_lock:
            fd = self._file()
            if fd is None:
                yield
                return
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)


def writer_queue(engine: Engine) -> WriterQueue | None:
    """The queue SQLite writers of this engine wait in; None on PostgreSQL (its advisory lock wakes waiters)."""
    return WriterQueue(engine.url.database) if is_sqlite(engine) else None


def take_write_lock(conn: Connection) -> None:
    """Serialise writers (SQLite already does with BEGIN IMMEDIATE)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")


@dataclass(frozen=True)
class CheckpointPass:
    frames: int  # frames in the log when the pass began
    copied_beside: int  # copied into the database while writers went on
    finished: bool  # the rest copied with the writers held: the next write starts the log afresh


class WalCheckpointer:
    """Checkpoints an SQLite write-ahead log in a thread of its own, beside the writers.

    SQLite checkpoints in the connection whose commit takes the log past ``wal_autocheckpoint``
    pages, inside that commit, so inside :class:`WriterQueue`: every other writer of every API worker
    waited while 64 MiB were copied into the database and synced, about 100 ms, nine times per
    200,000 objects ingested (10 % of the time, docs/benchmarks.md). Here a pass, at most once per
    ``every`` seconds and only after a write of this process, copies what the log holds while the
    writers go on (``PASSIVE``); once the log holds ``min_frames`` or more it also copies the few
    frames written meanwhile with the writers held, so that the next write starts the log afresh and
    the file stays bounded. Only checkpoints move work: what a commit makes durable is unchanged.
    """

    def __init__(self, engine: Engine, queue: WriterQueue, *, every: float = 1.0, min_frames: int = 32_768) -> None:
        self._engine = engine
        self._queue = queue
        self._every = every
        self._min_frames = min_frames
        self._writes = 0
        self._seen = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.passes = 0

    def wrote(self) -> None:
        self._writes += 1

    def start(self) -> None:
        _BACKGROUND.add(str(self._engine.url))
        self._engine.dispose()  # pooled connections were opened with the in-line setting
        self._thread = threading.Thread(target=self._run, name="accord-wal-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        _BACKGROUND.discard(str(self._engine.url))
        self._engine.dispose()

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            if self._writes != self._seen:
                self._seen = self._writes
                try:
                    self.checkpoint()
                except Exception:  # e.g. a full disk: SQLite's in-line checkpoint remains the safety net
                    _log.exception("checkpointing the SQLite write-ahead log failed; will try again")

    def _passive(self) -> tuple[int, int, int]:
        conn = self._engine.raw_connection()
        try:
            cur = conn.cursor()
            busy, frames, copied = cur.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            cur.close()
            return int(busy), int(frames), int(copied)
        finally:
            conn.close()

    def checkpoint(self) -> CheckpointPass:
        busy, frames, copied = self._passive()
        finished = False
        if not busy and frames >= self._min_frames:
            with self._queue.turn():
                busy, rest, done = self._passive()
            finished = not busy and rest == done  # a reader of old frames can hold some back
        self.passes += 1
        return CheckpointPass(frames, copied, finished)
