"""Node identity keys and object signatures: Ed25519 plus ML-DSA-65 (FIPS 204), both required.

A hybrid pair keeps objects verifiable if either scheme falls: Ed25519 against today's attackers,
ML-DSA-65 against a future quantum computer. Both sign the same message: a domain-separation prefix,
the origin node's identity id and the RFC 8785 (JCS) canonical JSON of the object *without* the
signature extension, so a receiver re-derives the bytes from any JSON serialisation of the object
and relaying nodes can carry the signature without touching what it covers.

The signature travels in a STIX 2.1 property extension (STIX 2.1 section 7.3) defined by
:data:`EXTENSION_DEFINITION`; tools that do not know it ignore it (section 3.2 lets them).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.mldsa import MLDSA65PrivateKey, MLDSA65PublicKey

from accord.domain.errors import InvalidInput

EXTENSION_ID = "extension-definition--a1c07d5e-5f0b-4b7e-9d3c-1a5e0c0f2e51"
ACCORD_IDENTITY = "identity--8f3d2f38-5f8e-4c0a-9a43-6f1f5b0e7c11"
_PREFIX = b"accord-signature-v1\n"

EXTENSION_DEFINITION: dict[str, Any] = {
    "type": "extension-definition",
    "spec_version": "2.1",
    "id": EXTENSION_ID,
    "created_by_ref": ACCORD_IDENTITY,
    "created": "2026-11-27T00:00:00.000Z",
    "modified": "2026-11-27T00:00:00.000Z",
    "name": "Accord origin signature",
    "description": "Hybrid Ed25519 + ML-DSA-65 signature of the object by the node that originated it, over "
                   "the RFC 8785 canonical JSON of the object without this extension.",
    "schema": "https://accord.example/extensions/origin-signature/v1 (docs/federation.md)",
    "version": "1.0.0",
    "extension_types": ["property-extension"],
}


@dataclass(frozen=True, slots=True)
class PublicKeys:
    key_id: str
    ed25519: bytes
    ml_dsa_65: bytes

    @property
    def fingerprint(self) -> str:
        """SHA-256 over both public keys, grouped for reading aloud when confirming out of band."""
        digest = hashlib.sha256(b"accord-key-v1" + self.ed25519 + self.ml_dsa_65).hexdigest()
        return ":".join(digest[i:i + 4] for i in range(0, 32, 4))


def key_id_of(ed25519: bytes, ml_dsa_65: bytes) -> str:
    return hashlib.sha256(ed25519 + ml_dsa_65).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Signature:
    origin: str
    key_id: str
    ed25519: bytes
    ml_dsa_65: bytes


class Signer:
    """This node's private keys. Loaded from the data directory; never leave it."""

    def __init__(self, origin: str, ed: Ed25519PrivateKey, ml: MLDSA65PrivateKey) -> None:
        self.origin = origin
        self._ed, self._ml = ed, ml
        raw = ser.Encoding.Raw, ser.PublicFormat.Raw
        ed_pub, ml_pub = ed.public_key().public_bytes(*raw), ml.public_key().public_bytes(*raw)
        self.public = PublicKeys(key_id_of(ed_pub, ml_pub), ed_pub, ml_pub)

    def sign(self, obj: Mapping[str, Any]) -> Signature:
        message = signed_message(self.origin, obj)
        return Signature(self.origin, self.public.key_id, self._ed.sign(message), self._ml.sign(message))


def signed_message(origin: str, obj: Mapping[str, Any]) -> bytes:
    return _PREFIX + origin.encode() + b"\n" + rfc8785.dumps(without_signature(obj))


def without_signature(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object as its origin stored it: our extension removed (and ``extensions`` if it is emptied)."""
    out = dict(obj)
    extensions = out.get("extensions")
    if isinstance(extensions, dict) and EXTENSION_ID in extensions:
        rest = {k: v for k, v in extensions.items() if k != EXTENSION_ID}
        if rest:
            out["extensions"] = rest
        else:
            del out["extensions"]
    return out


@functools.lru_cache(maxsize=256)
def _loaded(keys: PublicKeys) -> tuple[Ed25519PublicKey, MLDSA65PublicKey]:
    return Ed25519PublicKey.from_public_bytes(keys.ed25519), MLDSA65PublicKey.from_public_bytes(keys.ml_dsa_65)


def verify(keys: PublicKeys, signature: Signature, obj: Mapping[str, Any]) -> bool:
    """Both signatures must hold; one valid half is a refusal."""
    message = signed_message(signature.origin, obj)
    try:
        ed, ml = _loaded(keys)
        ed.verify(signature.ed25519, message)
        ml.verify(signature.ml_dsa_65, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_many(items: list[tuple[PublicKeys, Signature, dict[str, Any]]]) -> list[bool]:
    """:func:`verify` over a batch; the unit of work of the verification processes (see ingest)."""
    return [verify(k, s, o) for k, s, o in items]


def extension(signature: Signature, hops: int, covered: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The property-extension body. ``hops`` and ``covered`` (the nodes the sender also pushes the
    object to, so receivers need not relay it there) are routing hints outside what is signed."""
    ext = {"extension_type": "property-extension", "origin": signature.origin, "key": signature.key_id,
           "ed25519": base64.b64encode(signature.ed25519).decode(),
           "ml_dsa_65": base64.b64encode(signature.ml_dsa_65).decode(), "hops": hops}
    if covered:
        ext["covered"] = sorted(covered)
    return ext


def read_extension(obj: Mapping[str, Any]) -> tuple[Signature, int, frozenset[str]] | None:
    """(signature, hops, covered) from an object's extension; None without one; InvalidInput if malformed."""
    extensions = obj.get("extensions")
    if not isinstance(extensions, dict) or EXTENSION_ID not in extensions:
        return None
    ext = extensions[EXTENSION_ID]
    try:
        sig = Signature(str(ext["origin"]), str(ext["key"]), base64.b64decode(ext["ed25519"], validate=True),
                        base64.b64decode(ext["ml_dsa_65"], validate=True))
        hops = int(ext.get("hops", 0))
        covered = frozenset(str(n) for n in ext.get("covered", ()))
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"malformed origin-signature extension: {exc}") from None
    return sig, hops, covered


# --- the key files ---------------------------------------------------------------------------------

def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def key_dir(data_dir: Path) -> Path:
    return data_dir / "identity"


def load_or_create(data_dir: Path, origin: str, rotate: bool = False) -> Signer:
    """The node's current key pair, generated on first start (or on rotation) with mode 0600.

    Rotation moves the current pair aside (``retired-<key id>``): older objects keep verifying
    because peers keep every public key they registered, retired or not.
    """
    directory = key_dir(data_dir)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    ed_path, ml_path = directory / "ed25519.key", directory / "ml-dsa-65.key"
    if rotate and ed_path.exists():
        old = load_or_create(data_dir, origin)
        ed_path.rename(directory / f"retired-{old.public.key_id}-ed25519.key")
        ml_path.rename(directory / f"retired-{old.public.key_id}-ml-dsa-65.key")
    if not ed_path.exists():
        ed, ml = Ed25519PrivateKey.generate(), MLDSA65PrivateKey.generate()
        raw = ser.Encoding.Raw, ser.PrivateFormat.Raw, ser.NoEncryption()
        _write_private(ml_path, ml.private_bytes(*raw))
        _write_private(ed_path, ed.private_bytes(*raw))
    ed = Ed25519PrivateKey.from_private_bytes(ed_path.read_bytes())
    ml = MLDSA65PrivateKey.from_seed_bytes(ml_path.read_bytes())
    return Signer(origin, ed, ml)
