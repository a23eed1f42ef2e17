"""Engines for SQLite (embedded default) and PostgreSQL, and the node-wide write lock.

SQLite runs in WAL mode with ``synchronous=NORMAL``: a killed process (``kill -9``) loses nothing,
and only an operating-system crash or power loss can lose the last transactions before a checkpoint
(docs/running.md says so). Writes start with ``BEGIN IMMEDIATE`` so that two writers queue on the
busy timeout instead of failing when a read transaction tries to upgrade.

On PostgreSQL every write transaction first takes one transaction-scoped advisory lock. Writes are
therefore serial across all API workers, which is what keeps ``date_added`` increasing in commit
order, so a client paging with ``next`` or ``added_after`` never skips an object committed late.
"""

from __future__ import annotations

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
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "busy_timeout=60000",
            "cache_size=-65536",
            "mmap_size=1073741824",
            "wal_autocheckpoint=16384",
            "temp_store=MEMORY",
        ):
            cur.execute("PRAGMA " + pragma)
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("accord_write") else "BEGIN")

    return engine


def take_write_lock(conn: Connection) -> None:
    """Serialise writers (SQLite already does with BEGIN IMMEDIATE)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")
