"""Console sign-in: account passwords and browser sessions (tables of migration 0012).

A session row holds the SHA-256 of its token, never the token: a copy of the database does not
let anyone sign in as the session's account.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import Connection, bindparam, delete, select, update

from accord.domain.sharing import Role
from accord.store import fast
from accord.store.tables import account_passwords, accounts, api_keys, organisations, ui_sessions

_FIND_SESSION = (
    select(ui_sessions.c.account_id, accounts.c.name, accounts.c.org_id, accounts.c.role, ui_sessions.c.key_id,
           ui_sessions.c.created, ui_sessions.c.last_seen, accounts.c.disabled, organisations.c.disabled,
           api_keys.c.revoked, api_keys.c.expires, api_keys.c.key_id)
    .join(accounts, accounts.c.id == ui_sessions.c.account_id)
    .join(organisations, organisations.c.id == accounts.c.org_id)
    .outerjoin(api_keys, api_keys.c.key_id == ui_sessions.c.key_id)
    .where(ui_sessions.c.token_sha256 == bindparam("token")))
_TOUCH = update(ui_sessions).where(ui_sessions.c.token_sha256 == bindparam("token")).values(
    last_seen=bindparam("now"))


class SessionRow(NamedTuple):
    """A stored session with what decides whether it still holds (services.sessions decides)."""

    account_id: int
    account_name: str
    org_id: int
    role: Role
    key_id: str | None
    created: int
    last_seen: int
    account_disabled: int | None
    org_disabled: int | None
    key_revoked: int | None
    key_expires: int | None
    key_exists: bool


class PasswordAccount(NamedTuple):
    account_id: int
    password_hash: str | None


class SessionsMixin:
    conn: Connection

    # passwords -----------------------------------------------------------------------------
    def password_of(self, account_name: str) -> PasswordAccount | None:
        """The account of that name and its password hash (None if it has none); None if no such account."""
        stmt = (select(accounts.c.id, account_passwords.c.hash)
                .outerjoin(account_passwords, account_passwords.c.account_id == accounts.c.id)
                .where(accounts.c.name == account_name))
        row = self.conn.execute(stmt).first()
        return None if row is None else PasswordAccount(row[0], row[1])

    def set_password(self, account_id: int, password_hash: str, now: int) -> None:
        self.conn.execute(delete(account_passwords).where(account_passwords.c.account_id == account_id))
        self.conn.execute(account_passwords.insert().values(account_id=account_id, hash=password_hash, updated=now))

    # sessions ------------------------------------------------------------------------------
    def add_session(self, token_sha256: str, account_id: int, key_id: str | None, now: int) -> None:
        self.conn.execute(ui_sessions.insert().values(token_sha256=token_sha256, account_id=account_id,
                                                      key_id=key_id, created=now, last_seen=now))

    def find_session(self, token_sha256: str) -> SessionRow | None:
        found = fast.rows(self.conn, _FIND_SESSION, {"token": token_sha256})
        if not found:
            return None
        r = found[0]
        return SessionRow(r[0], r[1], r[2], Role(r[3]), r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11] is not None)

    def touch_session(self, token_sha256: str, now: int) -> None:
        fast.execute(self.conn, _TOUCH, {"token": token_sha256, "now": now})

    def end_session(self, token_sha256: str) -> None:
        self.conn.execute(delete(ui_sessions).where(ui_sessions.c.token_sha256 == token_sha256))

    def end_sessions_of(self, account_id: int) -> int:
        result = self.conn.execute(delete(ui_sessions).where(ui_sessions.c.account_id == account_id))
        return int(result.rowcount)

    def end_sessions_before(self, last_seen_before: int, created_before: int) -> int:
        """Forget sessions idle or old beyond their limits (they would be refused anyway)."""
        result = self.conn.execute(delete(ui_sessions).where(
            (ui_sessions.c.last_seen < last_seen_before) | (ui_sessions.c.created < created_before)))
        return int(result.rowcount)

    def count_sessions(self, account_id: int) -> int:
        stmt = select(ui_sessions.c.token_sha256).where(ui_sessions.c.account_id == account_id)
        return len(self.conn.execute(stmt).all())
