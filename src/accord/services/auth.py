"""API keys: issued once, stored as SHA-256 of their secret, checked in constant time.

A key reads ``acc_<key id>_<secret>``. The key id (public) finds the row; the secret (32 random
bytes) is never stored. A fast hash is right here because the secret has 256 bits of entropy: a
slow password hash protects guessable passwords, which these are not.

A key stops authenticating when it is revoked, when it expires, and while its account or its
organisation is disabled. Only a caller who holds the secret learns which of these it is.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from accord.domain.errors import Unauthenticated
from accord.domain.model import Principal
from accord.stix.timestamps import now_micros
from accord.store.repository import Store, Tx

_PREFIX = "acc_"


def new_key() -> tuple[str, str, str]:
    """(key id, secret sha256, the full key to show once)."""
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return key_id, hash_secret(secret), f"{_PREFIX}{key_id}_{secret}"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_key(tx: Tx, account_id: int, expires: int | None = None) -> tuple[str, str]:
    """Store a new key for the account (valid until ``expires``, microseconds, if given); returns
    (key id, full key)."""
    key_id, digest, full = new_key()
    tx.add_key(account_id, key_id, digest, expires)
    return key_id, full


def key_from_header(authorization: str | None) -> str:
    """The API key in ``Authorization: Bearer <key>`` or HTTP Basic with the key as the password
    (TAXII 2.1 section 8.2.2 asks servers to support Basic)."""
    if not authorization:
        raise Unauthenticated("an API key is required (Authorization: Bearer <key>, or Basic with the key as password)")
    scheme, _, value = authorization.strip().partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer":
        return value.strip()
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthenticated("malformed Basic credentials") from None
        return decoded.partition(":")[2]
    raise Unauthenticated(f"unsupported authorization scheme {scheme!r}")


def authenticate(store: Store, authorization: str | None) -> Principal:
    with store.read() as tx:
        return authenticate_in(tx, authorization)


def authenticate_in(tx: Tx, authorization: str | None) -> Principal:
    """The principal behind the request's API key, read in the caller's transaction."""
    key = key_from_header(authorization)
    if not key.startswith(_PREFIX) or key.count("_") < 2:
        raise Unauthenticated("invalid API key")
    key_id, _, secret = key[len(_PREFIX):].partition("_")
    found = tx.find_key(key_id)
    if found is None:
        hmac.compare_digest(hash_secret(secret), "0" * 64)  # same work whether or not the id exists
        raise Unauthenticated("invalid API key")
    if not hmac.compare_digest(hash_secret(secret), found.secret_sha256):
        raise Unauthenticated("invalid API key")
    if found.expires is not None and found.expires <= now_micros():
        raise Unauthenticated("this API key has expired")
    if found.account_disabled is not None:
        raise Unauthenticated("this API key's account is disabled")
    if found.org_disabled is not None:
        raise Unauthenticated("this API key's organisation is disabled")
    return Principal(found.account_id, found.account_name, found.org_id, found.role, tx.groups_of(found.org_id))
