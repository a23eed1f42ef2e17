"""Secrets the node must present itself (its API keys at peers): sealed at rest with AES-256-GCM.

Secrets others present to this node (API keys) are stored as hashes; a credential this node sends to
a peer cannot be, so it is encrypted under a key kept in the data directory (mode 0600, beside the
signing keys) and not in the database: a copy of the database alone (a backup, a dump, a PostgreSQL
server on another host) does not reveal it. Values written before sealing existed stay readable and
are sealed when next written.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_PREFIX = "sealed:v1:"
_CONTEXT = b"accord peer credential v1"


class SecretError(Exception):
    """A sealed value that cannot be opened here (no key, or another node's key)."""


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    @classmethod
    def load_or_create(cls, path: Path) -> SecretBox:
        """The key at ``path``, created (32 random bytes, mode 0600) on first use."""
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            key = path.read_bytes()
        else:
            key = os.urandom(32)
            with os.fdopen(fd, "wb") as f:
                f.write(key)
        if len(key) != 32:
            raise SecretError(f"{path} is not a 32-byte key")
        return cls(key)

    def seal(self, secret: str) -> str:
        nonce = os.urandom(12)
        return _PREFIX + base64.b64encode(nonce + self._aead.encrypt(nonce, secret.encode(), _CONTEXT)).decode()

    def open(self, stored: str) -> str:
        if not is_sealed(stored):
            return stored  # written before sealing
        try:
            raw = base64.b64decode(stored[len(_PREFIX):], validate=True)
            return self._aead.decrypt(raw[:12], raw[12:], _CONTEXT).decode()
        except (ValueError, InvalidTag):
            raise SecretError("a sealed credential does not open with this node's key "
                              "(was the data directory's identity/secrets.key replaced?)") from None


def is_sealed(stored: str) -> bool:
    return stored.startswith(_PREFIX)
