"""What a serving node runs federation with: its signer, and a wake-up for the pushers on each commit.

Installed by the composition root (``accord.bootstrap``) for a store; a store without it (unit tests
of the TAXII API, one-shot CLI commands) simply stores objects as issue 2 does, unsigned.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event

from accord.federation.signing import Signer, load_or_create
from accord.store.repository import Store


@dataclass
class Runtime:
    signer: Signer
    host_org: int
    sign_lock: threading.Lock = field(default_factory=threading.Lock)
    _waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def origin(self) -> str:
        return self.signer.origin

    def waiter(self) -> asyncio.Event:
        """An event set after every commit that stored object versions in this process (call in the loop)."""
        ev = asyncio.Event()
        with self._lock:
            self._waiters.append((asyncio.get_running_loop(), ev))
        return ev

    def drop(self, ev: asyncio.Event) -> None:
        with self._lock:
            self._waiters = [(lp, e) for lp, e in self._waiters if e is not ev]

    def notify(self) -> None:
        with self._lock:
            waiters = list(self._waiters)
        for loop, ev in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(ev.set)


_runtimes: weakref.WeakKeyDictionary[Store, Runtime] = weakref.WeakKeyDictionary()


def runtime_of(store: Store) -> Runtime | None:
    return _runtimes.get(store)


def install(store: Store, data_dir: Path) -> Runtime:
    """Load (or create, on first start) the node's keys, register its own public keys, watch commits."""
    with store.read() as tx:
        host = tx.get_setting("host_org")
        if host is None:
            raise RuntimeError("the node is not initialised")
        org = tx.get_org(int(host))
    signer = load_or_create(data_dir, org.identity_id)
    with store.write() as tx:
        if tx.add_node_keys(org.identity_id, signer.public):
            tx.audit(None, None, "federation.node_keys", {"key": signer.public.key_id,
                                                          "fingerprint": signer.public.fingerprint})
    rt = Runtime(signer, org.id)
    _runtimes[store] = rt

    def on_execute(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("INSERT INTO objects"):
            conn.info["accord_objects_added"] = True

    # SQLAlchemy's "commit" event fires before the database commits: a pusher woken then could read
    # too early and sleep through its only wake-up. Notify when the connection goes back to the
    # pool, which is after the commit.
    def on_commit(conn: Any) -> None:
        if conn.info.pop("accord_objects_added", False):
            conn.info["accord_committed"] = True

    def on_rollback(conn: Any) -> None:
        conn.info.pop("accord_objects_added", None)

    def on_checkin(_dbapi_conn: Any, record: Any) -> None:
        if record is not None and record.info.pop("accord_committed", False):
            rt.notify()

    event.listen(store.engine, "after_cursor_execute", on_execute)
    event.listen(store.engine, "commit", on_commit)
    event.listen(store.engine, "rollback", on_rollback)
    event.listen(store.engine.pool, "checkin", on_checkin)
    return rt
