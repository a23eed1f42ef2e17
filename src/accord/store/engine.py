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
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import NullPool

WRITE_LOCK_KEY = 0x4143_4344  # "ACCD"


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
            "wal_autocheckpoint=8192",  # pages: 64 MiB of log before a checkpoint
            "temp_store=MEMORY",
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


class WriterQueue:
    """Queue of SQLite writers: a thread lock, then an exclusive ``flock`` on a file beside the database."""

    def __init__(self, database: str | None) -> None:
        self._thread_lock = threading.Lock()
        self._path = None if database in (None, "", ":memory:") else f"{database}-writer"
        self._fd: int | None = None
        self._pid = 0

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
