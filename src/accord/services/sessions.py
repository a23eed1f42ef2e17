"""Console sessions: sign in with an API key or a name and password, then a cookie for a while.

The browser holds a random token (256 bits); the store holds its SHA-256 only (store/sessions.py).
Every request re-reads the session with its account, organisation and key, so a session ends at the
next request after its key is revoked or expires, after its account or organisation is disabled,
after it has been idle for :attr:`SessionPolicy.idle`, or once it is :attr:`SessionPolicy.absolute`
old (OWASP Session Management Cheat Sheet, "Session Expiration"). The CSRF token of a session is an
HMAC of its token, so it needs no storage and cannot be derived from the database either.

Failed sign-ins are throttled in the worker process (:class:`SignInThrottle`): per account name,
so guessing one account's password is slow, and per client address, so trying many names is too.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass, field

from accord.domain.errors import Unauthenticated
from accord.domain.model import Principal
from accord.domain.sharing import Role
from accord.services import auth, passwords
from accord.stix.timestamps import now_micros
from accord.store.repository import Store, Tx
from accord.store.sessions import SessionRow

log = logging.getLogger("accord.console")

_SECOND = 1_000_000


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """Limits in seconds. ``touch_every`` spares a write per request: the idle clock advances when
    the stored last use is older than that."""

    idle: int = 30 * 60
    absolute: int = 12 * 3600
    touch_every: int = 60


# Why a session ended, by a code the sign-in page can be sent (never text from a request).
ENDED = {
    "signed-out": "You are signed out.",
    "idle": "Your session ended after a time without use. Please sign in again.",
    "absolute": "Your session reached its maximum length. Please sign in again.",
    "disabled": "Your account or organisation is disabled.",
    "revoked": "The API key you signed in with was revoked.",
    "expired": "The API key you signed in with has expired.",
}


class SessionEnded(Unauthenticated):
    """The cookie names no session that still holds; ``code`` (a key of :data:`ENDED`) says why."""

    def __init__(self, code: str) -> None:
        super().__init__(ENDED[code])
        self.code = code


@dataclass(frozen=True, slots=True)
class SignedIn:
    token: str
    principal: Principal


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def csrf_token(token: str) -> str:
    """The session's anti-forgery token (synchroniser token, OWASP CSRF Prevention Cheat Sheet)."""
    return hmac.new(token.encode("utf-8", "surrogatepass"), b"accord console csrf", hashlib.sha256).hexdigest()


def _open(tx: Tx, account_id: int, key_id: str | None, method: str, name: str, org_id: int) -> str:
    token = secrets.token_urlsafe(32)
    tx.add_session(token_hash(token), account_id, key_id, now_micros())
    tx.audit(account_id, org_id, "console.sign_in", {"account": name, "method": method, "key": key_id})
    return token


def sign_in_with_key(store: Store, key: str) -> SignedIn:
    """A session for the API key's account, which ends when the key stops authenticating."""
    with store.write(audit_only=True) as tx:
        principal = auth.authenticate_in(tx, f"Bearer {key}")
        key_id = key.removeprefix("acc_").partition("_")[0]
        return SignedIn(_open(tx, principal.account_id, key_id, "api-key", principal.account_name,
                              principal.org_id), principal)


def sign_in_with_password(store: Store, name: str, password: str) -> SignedIn:
    """A session for the named account if the password matches; one message for every failure."""
    refused = Unauthenticated("the account name or the password is wrong")
    with store.read() as tx:
        found = tx.password_of(name)
    if not passwords.verify_password(password, found.password_hash if found else None) or found is None:
        raise refused
    with store.write(audit_only=True) as tx:
        row = tx.get_account(name)
        if row.disabled is not None or row.org_disabled is not None:
            raise refused
        org = tx.get_org(row.org)
        principal = Principal(row.id, row.name, org.id, Role(row.role), tx.groups_of(org.id))
        return SignedIn(_open(tx, row.id, None, "password", name, org.id), principal)


def _why_ended(row: SessionRow | None, policy: SessionPolicy, now: int) -> str | None:
    if row is None:
        return "signed-out"
    if now - row.last_seen > policy.idle * _SECOND:
        return "idle"
    if now - row.created > policy.absolute * _SECOND:
        return "absolute"
    if row.account_disabled is not None or row.org_disabled is not None:
        return "disabled"
    if row.key_id is not None and (not row.key_exists or row.key_revoked is not None):
        return "revoked"
    if row.key_id is not None and row.key_expires is not None and row.key_expires <= now:
        return "expired"
    return None


def resolve(store: Store, token: str, policy: SessionPolicy) -> Principal:
    """The principal of a session that still holds; SessionEnded (and the row deleted) otherwise."""
    digest = token_hash(token)
    now = now_micros()
    with store.read() as tx:
        row = tx.find_session(digest)
        why = _why_ended(row, policy, now)
        groups = tx.groups_of(row.org_id) if row is not None and why is None else frozenset()
    if why is not None or row is None:
        if row is not None:
            with store.write(audit_only=True) as tx:
                tx.end_session(digest)
        raise SessionEnded(why or "signed-out")
    if now - row.last_seen > policy.touch_every * _SECOND:
        with store.write(audit_only=True) as tx:
            tx.touch_session(digest, now)
    return Principal(row.account_id, row.account_name, row.org_id, row.role, groups)


def sign_out(store: Store, token: str) -> None:
    with store.write(audit_only=True) as tx:
        row = tx.find_session(token_hash(token))
        tx.end_session(token_hash(token))
        if row is not None:
            tx.audit(row.account_id, row.org_id, "console.sign_out", {"account": row.account_name})


@dataclass
class SignInThrottle:
    """At most ``per_name`` failures per account name and ``per_address`` per client address within
    ``window`` seconds; then sign-in is refused, before any check, until the oldest failure ages out.
    Memory is bounded: when more than ``capacity`` names or addresses are tracked, stale ones go."""

    per_name: int = 5
    per_address: int = 30
    window: float = 15 * 60
    capacity: int = 10_000
    _failures: dict[str, list[float]] = field(default_factory=dict)

    def wait(self, name: str, address: str, now: float) -> float:
        """Seconds until a sign-in as ``name`` from ``address`` is allowed again; 0 if it is now."""
        return max(self._wait("name " + name, self.per_name, now),
                   self._wait("address " + address, self.per_address, now))

    def _wait(self, bucket: str, limit: int, now: float) -> float:
        recent = [t for t in self._failures.get(bucket, ()) if now - t < self.window]
        if recent:
            self._failures[bucket] = recent
        else:
            self._failures.pop(bucket, None)
        return 0.0 if len(recent) < limit else recent[-limit] + self.window - now

    def failed(self, name: str, address: str, now: float) -> None:
        for bucket in ("name " + name, "address " + address):
            self._failures.setdefault(bucket, []).append(now)
        if len(self._failures) > self.capacity:
            for bucket in [b for b, times in self._failures.items() if now - times[-1] >= self.window]:
                del self._failures[bucket]
        log.warning("console sign-in failed for %r from %s", name[:100], address)

    def succeeded(self, name: str) -> None:
        self._failures.pop("name " + name, None)
