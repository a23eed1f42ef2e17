"""The store: one class over SQLite or PostgreSQL, used through short transactions.

``store.read()`` and ``store.write()`` yield a :class:`Tx` whose methods come from the mixins of
this package. A write transaction takes the node-wide write lock first (see ``engine.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from sqlalchemy import BigInteger, Connection, Engine, String, bindparam, cast, delete, select, update

from accord.store import fast
from accord.store.admin import AdminMixin
from accord.store.advisories import AdvisoriesMixin
from accord.store.assets import AssetsMixin
from accord.store.audit import AuditMixin
from accord.store.engine import WalCheckpointer, make_engine, take_write_lock, writer_queue
from accord.store.federation import FederationMixin
from accord.store.notices import NoticesMixin
from accord.store.objects import ObjectsMixin
from accord.store.secrets import SecretBox
from accord.store.sessions import SessionsMixin
from accord.store.tables import settings, statuses
from accord.store.uploads import UploadsMixin

_SAVE_STATUS = statuses.insert().values(id=bindparam("id"), api_root_id=bindparam("api_root_id"),
                                        org_id=bindparam("org_id"), created=bindparam("created"),
                                        body=bindparam("body"))
_GENERATION_KEY = "write_generation"
_GENERATION = select(settings.c.value).where(settings.c.key == _GENERATION_KEY)
_BUMP_GENERATION = (update(settings).where(settings.c.key == _GENERATION_KEY)
                    .values(value=cast(cast(settings.c.value, BigInteger) + 1, String)))
_GET_STATUS = select(statuses.c.api_root_id, statuses.c.org_id, statuses.c.body).where(
    statuses.c.id == bindparam("id"))


class Tx(ObjectsMixin, AdminMixin, AuditMixin, FederationMixin, SessionsMixin, AdvisoriesMixin,
         AssetsMixin, NoticesMixin, UploadsMixin):
    def __init__(self, conn: Connection, secrets: SecretBox | None = None) -> None:
        self.conn = conn
        self.secrets = secrets

    def save_status(self, status_id: str, api_root_id: int, org_id: int, created: int, body: bytes) -> None:
        fast.execute(self.conn, _SAVE_STATUS, {"id": status_id, "api_root_id": api_root_id, "org_id": org_id,
                                              "created": created, "body": body})

    def get_status(self, status_id: str) -> tuple[int, int, bytes] | None:
        """(api root id, org id, body) of a status resource."""
        row = self.conn.execute(_GET_STATUS, {"id": status_id}).first()
        return None if row is None else (row[0], row[1], row[2])

    def generation(self) -> int:
        """How many write transactions have changed this database (see :meth:`Store.write`)."""
        found = fast.rows(self.conn, _GENERATION)
        return int(found[0][0]) if found else 0

    def bump_generation(self) -> None:
        if fast.execute(self.conn, _BUMP_GENERATION) == 0:
            self.conn.execute(settings.insert(), {"key": _GENERATION_KEY, "value": "1"})

    def prune_statuses(self, created_before: int) -> int:
        return int(self.conn.execute(delete(statuses).where(statuses.c.created < created_before)).rowcount)


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writers = writer_queue(engine)
        self._checkpointer: WalCheckpointer | None = None
        self.secrets: SecretBox | None = None  # set by the composition root: seals peer credentials

    @classmethod
    def open(cls, url: str) -> Store:
        return cls(make_engine(url))

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Tx]:
        with self.engine.connect() as conn, conn.begin():
            yield Tx(conn, self.secrets)

    @contextmanager
    def write(self, *, audit_only: bool = False) -> Iterator[Tx]:
        """A write transaction. Unless it only appends to the audit log, it also advances the write
        generation in the same transaction, so a reader that sees the generation unchanged knows that
        nothing else it could read has changed either (``services.objects`` relies on this to serve
        pages prepared ahead of time)."""
        with self._writers.turn() if self._writers else nullcontext(), self.engine.connect() as conn:
            conn.execution_options(accord_write=True)
            with conn.begin():
                take_write_lock(conn)
                tx = Tx(conn, self.secrets)
                yield tx
                if not audit_only:
                    tx.bump_generation()
        if self._checkpointer is not None:
            self._checkpointer.wrote()

    def checkpoint_in_background(self, every: float = 1.0, min_frames: int = 32_768) -> WalCheckpointer | None:
        """SQLite: checkpoint the write-ahead log in a thread beside the writers (see WalCheckpointer);
        for a long-running server. The caller stops it. None on PostgreSQL and in-memory databases."""
        if self._writers is None or not self._writers.shared:
            return None
        self._checkpointer = WalCheckpointer(self.engine, self._writers, every=every, min_frames=min_frames)
        self._checkpointer.start()
        return self._checkpointer

    def close(self) -> None:
        self.engine.dispose()


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'accord.db'}"
