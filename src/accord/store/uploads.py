"""Console upload jobs and their pieces (tables ``upload_jobs``, ``upload_pieces``, migration 0015);
accord.services.uploads owns the rules. Every change is one conditional statement, so that two
workers cannot both add the same piece or both start storing the same job."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import Connection, delete, select, update

from accord.store.tables import upload_jobs, upload_pieces


class UploadRow(NamedTuple):
    id: str
    account_id: int
    name: str
    kind: str
    collection: str
    tlp: str
    expected: int
    pieces: int
    received: int
    state: str
    total: int
    done: int
    stored: int
    failed: int
    failures: str  # JSON
    error: str
    created: int
    updated: int


_COLUMNS = [upload_jobs.c[name] for name in UploadRow._fields]


class UploadsMixin:
    conn: Connection

    def add_upload(self, row: UploadRow) -> None:
        self.conn.execute(upload_jobs.insert().values(row._asdict()))

    def upload(self, job_id: str) -> UploadRow | None:
        found = self.conn.execute(select(*_COLUMNS).where(upload_jobs.c.id == job_id)).first()
        return UploadRow(*found) if found else None

    def add_upload_piece(self, job_id: str, data: bytes, limit: int, at: int) -> bool:
        """Append a piece to a job still receiving, if it keeps the job within ``limit`` bytes."""
        c = upload_jobs.c
        moved = self.conn.execute(
            update(upload_jobs).where(c.id == job_id, c.state == "receiving", c.received + len(data) <= limit)
            .values(pieces=c.pieces + 1, received=c.received + len(data), updated=at))
        if moved.rowcount != 1:
            return False
        seq = self.conn.execute(select(c.pieces).where(c.id == job_id)).scalar_one()
        self.conn.execute(upload_pieces.insert().values(job_id=job_id, seq=seq, data=data))
        return True

    def move_upload(self, job_id: str, was: str, at: int, **values: object) -> bool:
        """Change a job that is in the state ``was`` (False when it is not, or is gone)."""
        c = upload_jobs.c
        moved = self.conn.execute(update(upload_jobs).where(c.id == job_id, c.state == was)
                                  .values(updated=at, **values))
        return bool(moved.rowcount == 1)

    def upload_data(self, job_id: str) -> bytes:
        rows = self.conn.execute(select(upload_pieces.c.data).where(upload_pieces.c.job_id == job_id)
                                 .order_by(upload_pieces.c.seq)).scalars()
        return b"".join(bytes(r) for r in rows)

    def drop_upload_data(self, job_id: str) -> None:
        self.conn.execute(delete(upload_pieces).where(upload_pieces.c.job_id == job_id))

    def prune_uploads(self, account_id: int, keep: int, before: int) -> None:
        """Forget the account's finished jobs beyond the newest ``keep``, and every job of any account
        not touched since ``before`` (with its pieces)."""
        c = upload_jobs.c
        finished = list(self.conn.execute(
            select(c.id).where(c.account_id == account_id, c.state.in_(("done", "failed")))
            .order_by(c.updated.desc(), c.id).offset(keep)).scalars())
        stale = list(self.conn.execute(select(c.id).where(c.updated < before)).scalars())
        gone = sorted(set(finished) | set(stale))
        if gone:
            self.conn.execute(delete(upload_pieces).where(upload_pieces.c.job_id.in_(gone)))
            self.conn.execute(delete(upload_jobs).where(c.id.in_(gone)))
