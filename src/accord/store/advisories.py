"""The review record of public advisories (table ``advisories``, migration 0014).

The report objects themselves are ordinary STIX objects in the coordination collection; this table
holds what a person decided about each: its reviewed text, its state and which report version was
approved. accord.services.advisories owns the transitions and their audit records.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import Connection, select, update

from accord.store.tables import advisories


class AdvisoryRow(NamedTuple):
    id: str
    state: str
    source: str
    content: str  # JSON of accord.domain.advisories.Content
    drafted_by: int | None
    drafted_at: int
    reviewed_by: int | None
    reviewed_at: int | None
    reason: str | None
    published: str | None  # ``modified`` of the approved report version
    first_published: str | None


_COLUMNS = [advisories.c[name] for name in AdvisoryRow._fields]


class AdvisoriesMixin:
    conn: Connection

    def add_advisory(self, row: AdvisoryRow) -> None:
        self.conn.execute(advisories.insert().values(row._asdict()))

    def advisory(self, advisory_id: str) -> AdvisoryRow | None:
        found = self.conn.execute(select(*_COLUMNS).where(advisories.c.id == advisory_id)).first()
        return None if found is None else AdvisoryRow(*found)

    def list_advisories(self, state: str | None = None) -> list[AdvisoryRow]:
        stmt = select(*_COLUMNS).order_by(advisories.c.drafted_at, advisories.c.id)
        if state is not None:
            stmt = stmt.where(advisories.c.state == state)
        return [AdvisoryRow(*r) for r in self.conn.execute(stmt)]

    def update_advisory(self, advisory_id: str, **values: object) -> None:
        self.conn.execute(update(advisories).where(advisories.c.id == advisory_id).values(**values))
