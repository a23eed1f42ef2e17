"""Format-1 signatures (one hybrid signature per object) as nodes made them before batch signing.

Nodes no longer make them, but objects stored with them must keep verifying and flowing: the
back-compatibility tests and the benchmark's side-by-side baseline sign with this, from the key
files of a node's data directory.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.mldsa import MLDSA65PrivateKey

from accord.federation.signing import Signature, key_dir, load_or_create, v1_message


class V1Signer:
    def __init__(self, data_dir: Path, origin: str) -> None:
        self.origin = origin
        self.key_id = load_or_create(data_dir, origin).public.key_id
        directory = key_dir(data_dir)
        self._ed = Ed25519PrivateKey.from_private_bytes((directory / "ed25519.key").read_bytes())
        self._ml = MLDSA65PrivateKey.from_seed_bytes((directory / "ml-dsa-65.key").read_bytes())

    def sign(self, obj: Mapping[str, Any]) -> Signature:
        message = v1_message(self.origin, obj)
        return Signature(self.origin, self.key_id, self._ed.sign(message), self._ml.sign(message))
