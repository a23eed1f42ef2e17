"""Notices, their items and the outbox (tables of migration 0014); accord.services.notices and
accord.services.outbox own the rules and the transactions."""

from __future__ import annotations

from typing import NamedTuple

import orjson
from sqlalchemy import Connection, select, update

from accord.store.tables import notice_items, notice_outbox, notices

MAX_SUBJECTS = 100


class ItemRow(NamedTuple):
    id: int
    org_id: int
    reason: str
    value: str
    subjects: list[str]
    times: int
    first_seen: int
    last_seen: int
    notice_id: str | None


class NoticeRow(NamedTuple):
    id: str
    org_id: int
    created: int
    language: str
    subject: str
    body: str
    acknowledged_at: int | None


class OutboxRow(NamedTuple):
    id: int
    notice_id: str
    channel: str
    target: str
    state: str
    attempts: int
    next_at: int
    last_error: str | None
    sent_at: int | None


_ITEM = [notice_items.c[n] for n in ItemRow._fields]
_NOTICE = [notices.c[n] for n in NoticeRow._fields]
_OUTBOX = [notice_outbox.c[n] for n in OutboxRow._fields]


def _item(row: tuple[object, ...]) -> ItemRow:
    values = list(row)
    values[4] = orjson.loads(str(values[4]))
    return ItemRow(*values)  # type: ignore[arg-type]


class NoticesMixin:
    conn: Connection

    # items ---------------------------------------------------------------------------------
    def open_item(self, org_id: int, reason: str, value: str) -> ItemRow | None:
        """The item for (org, reason, value) whose notice nobody acknowledged yet, if any."""
        c = notice_items.c
        stmt = (select(*_ITEM).outerjoin(notices, notices.c.id == c.notice_id)
                .where(c.org_id == org_id, c.reason == reason, c.value == value, notices.c.acknowledged_at.is_(None))
                .order_by(c.id.desc()).limit(1))
        row = self.conn.execute(stmt).first()
        return None if row is None else _item(tuple(row))

    def add_item(self, org_id: int, reason: str, value: str, subject: str, at: int) -> None:
        self.conn.execute(notice_items.insert().values(org_id=org_id, reason=reason, value=value,
                                                       subjects=orjson.dumps([subject]).decode(), times=1,
                                                       first_seen=at, last_seen=at, notice_id=None))

    def count_item(self, item: ItemRow, subject: str, at: int) -> None:
        subjects = item.subjects if len(item.subjects) >= MAX_SUBJECTS else [*item.subjects, subject]
        self.conn.execute(update(notice_items).where(notice_items.c.id == item.id).values(
            subjects=orjson.dumps(subjects).decode(), times=item.times + 1, last_seen=max(at, item.last_seen)))

    def undigested_items(self) -> list[ItemRow]:
        stmt = select(*_ITEM).where(notice_items.c.notice_id.is_(None)).order_by(notice_items.c.id)
        return [_item(tuple(r)) for r in self.conn.execute(stmt)]

    def items_of(self, notice_id: str) -> list[ItemRow]:
        stmt = select(*_ITEM).where(notice_items.c.notice_id == notice_id).order_by(notice_items.c.id)
        return [_item(tuple(r)) for r in self.conn.execute(stmt)]

    # notices -------------------------------------------------------------------------------
    def add_notice(self, row: NoticeRow, item_ids: list[int]) -> None:
        self.conn.execute(notices.insert().values(row._asdict()))
        self.conn.execute(update(notice_items).where(notice_items.c.id.in_(item_ids)).values(notice_id=row.id))

    def notice(self, notice_id: str) -> NoticeRow | None:
        row = self.conn.execute(select(*_NOTICE).where(notices.c.id == notice_id)).first()
        return None if row is None else NoticeRow(*row)

    def list_notices(self, org_ids: list[int] | None = None, unacknowledged: bool = False) -> list[NoticeRow]:
        stmt = select(*_NOTICE).order_by(notices.c.created, notices.c.id)
        if org_ids is not None:
            stmt = stmt.where(notices.c.org_id.in_(org_ids))
        if unacknowledged:
            stmt = stmt.where(notices.c.acknowledged_at.is_(None))
        return [NoticeRow(*r) for r in self.conn.execute(stmt)]

    def acknowledge_notice(self, notice_id: str, at: int) -> bool:
        """Record the receipt; False if it was recorded before (the first time stands)."""
        done = self.conn.execute(update(notices).where(notices.c.id == notice_id,
                                                       notices.c.acknowledged_at.is_(None))
                                 .values(acknowledged_at=at)).rowcount
        return bool(done)

    # the outbox ----------------------------------------------------------------------------
    def enqueue(self, notice_id: str, channel: str, target: str, at: int) -> None:
        self.conn.execute(notice_outbox.insert().values(notice_id=notice_id, channel=channel, target=target,
                                                        state="pending", attempts=0, next_at=at))

    def due_messages(self, now: int, limit: int = 100) -> list[OutboxRow]:
        c = notice_outbox.c
        stmt = select(*_OUTBOX).where(c.state == "pending", c.next_at <= now).order_by(c.next_at, c.id).limit(limit)
        return [OutboxRow(*r) for r in self.conn.execute(stmt)]

    def outbox(self, notice_id: str | None = None) -> list[OutboxRow]:
        stmt = select(*_OUTBOX).order_by(notice_outbox.c.id)
        if notice_id is not None:
            stmt = stmt.where(notice_outbox.c.notice_id == notice_id)
        return [OutboxRow(*r) for r in self.conn.execute(stmt)]

    def update_message(self, message_id: int, **values: object) -> None:
        self.conn.execute(update(notice_outbox).where(notice_outbox.c.id == message_id).values(**values))
