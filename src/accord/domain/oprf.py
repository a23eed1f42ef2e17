"""An oblivious PRF on X25519, for "has anyone seen X?" without revealing X (docs/privacy.md).

The holder (a node) has a secret scalar ``k``; the PRF of an item is

    F_k(x) = H2( X25519(k, X25519(C0, P(x))) )

where ``P(x)`` maps the item to a point of Curve25519 (Elligator 2 over SHA-512, below), ``C0`` is a
public clamped scalar and ``H2`` a domain-separated SHA-256 truncated to 128 bits. The querier gets
``F_k(x)`` without the holder seeing ``x``:

1. the querier picks a random clamped scalar ``b`` (the unblinding scalar) and computes a clamped
   scalar ``a`` with ``a * b = C0 (mod l)`` (``l`` the order of the prime subgroup; about half of
   the draws of ``b`` give such an ``a`` in clamped form, the others are drawn again), and sends
   ``A = X25519(a, P(x))``;
2. the holder answers ``E = X25519(k, A)``;
3. the querier computes ``X25519(b, E) = (b k a) P(x) = k C0 P(x)`` and hashes it.

X25519 only ever multiplies (its scalars are clamped, so every product lands in the prime-order
subgroup, where scalars act modulo ``l``), so step 3 equals what the holder computes for its own
items: ``X25519(k, X25519(C0, P(y)))``. Scalar multiplication is the ``cryptography`` package's
X25519 (OpenSSL); this module adds only the arithmetic modulo ``p`` and ``l`` to map items to the
curve and to pair the blinding scalars. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

P = 2**255 - 19
A = 486662
L = 2**252 + 27742317777372353535851937790883648493  # order of the prime subgroup (RFC 7748)
_Z = 2  # a non-square modulo P (Elligator 2, RFC 9380 section 6.7.1)
_DST = b"accord-lookup-v1-point\x00"
_OUT = b"accord-lookup-v1-output\x00"


def clamp(raw: bytes) -> int:
    """RFC 7748 section 5: the scalar X25519 uses for 32 bytes ``raw``."""
    k = bytearray(raw)
    k[0] &= 248
    k[31] &= 127
    k[31] |= 64
    return int.from_bytes(k, "little")


C0 = clamp(hashlib.sha256(b"accord-lookup-v1-c0").digest())


def _is_square(x: int) -> bool:
    return pow(x, (P - 1) // 2, P) in (0, 1)


def to_point(item: str) -> bytes:
    """The u-coordinate (32 bytes) of a point on Curve25519 for ``item``: Elligator 2 of a hash, so
    the point is on the curve (not its twist) and no one knows its discrete logarithm."""
    r = int.from_bytes(hashlib.sha512(_DST + item.encode()).digest(), "little") % P
    denominator = (1 + _Z * r * r) % P
    u = (-A * pow(denominator, P - 2, P)) % P if denominator else 0
    if not _is_square((u * u * u + A * u * u + u) % P):
        u = (-u - A) % P
    return u.to_bytes(32, "little")


def multiply(scalar: int | bytes, point: bytes) -> bytes:
    """X25519(scalar, point); ValueError for a point of small order (the result would be zero)."""
    raw = scalar if isinstance(scalar, bytes) else scalar.to_bytes(32, "little")
    return X25519PrivateKey.from_private_bytes(raw).exchange(X25519PublicKey.from_public_bytes(point))


def output(point: bytes) -> bytes:
    """H2: what the PRF yields, 128 bits."""
    return hashlib.sha256(_OUT + point).digest()[:16]


def holder_value(key: bytes, item: str, premultiplied: bytes | None = None) -> bytes:
    """F_k(item) as the holder computes it for its own items (``premultiplied``: X25519(C0, P(item)),
    which holds no secret and may be cached)."""
    return output(multiply(key, premultiplied or multiply(C0, to_point(item))))


def _clamped_congruent(target: int) -> int | None:
    """The clamped scalar 2^254 + 8m (0 <= m < 2^251) congruent to ``target`` modulo L, if any."""
    m = (target - 2**254) * pow(8, -1, L) % L
    return 2**254 + 8 * m if m < 2**251 else None


@dataclass(frozen=True, slots=True)
class Blinded:
    """What the querier keeps (``unblind``) and what it sends (``point``)."""

    point: bytes
    unblind: int


def blind(item: str) -> Blinded:
    """Step 1. ``a`` and ``b`` are fresh for every query, so two queries for one item look unrelated."""
    while True:
        b = clamp(os.urandom(32))
        a = _clamped_congruent(C0 * pow(b, -1, L) % L)
        if a is not None:
            return Blinded(multiply(a, to_point(item)), b)


def evaluate(key: bytes, point: bytes) -> bytes:
    """Step 2, at the holder. ``point`` comes from the network: ValueError if it is of small order."""
    return multiply(key, point)


def finalize(blinded: Blinded, evaluated: bytes) -> bytes:
    """Step 3: F_k(item)."""
    return output(multiply(blinded.unblind, evaluated))
