"""Merkle tree hashes and audit paths exactly as RFC 9162 (Certificate Transparency 2.0) section 2.1.

A node signs a batch of objects once, over the root of the tree of their leaf hashes, and gives each
object its audit path, so that any one object proves on its own that it belongs to the signed batch.
Leaves and interior nodes are hashed with distinct one-byte prefixes (0x00 and 0x01, section 2.1.1),
so an interior node can never pass for a leaf (the second-preimage trick against plain Merkle trees).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
MAX_SIZE = 1 << 24  # far above any batch a node signs; bounds what a receiver accepts
_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 || d)."""
    return _sha256(b"\x00" + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return _sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1), where section 2.1.1 splits D[n]."""
    return 1 << ((n - 1).bit_length() - 1)


def tree(leaves: Sequence[bytes]) -> tuple[bytes, list[list[bytes]]]:
    """(MTH(D[n]), [PATH(m, D[n]) for every m]) over leaf hashes, per sections 2.1.1 and 2.1.3.1.

    Each path lists sibling hashes from the leaf upwards, as the verification in 2.1.3.2 reads them.
    """
    if not leaves:
        raise ValueError("a Merkle tree of no leaves signs nothing")
    paths: list[list[bytes]] = [[] for _ in leaves]

    def build(lo: int, hi: int) -> bytes:
        if hi - lo == 1:
            return leaves[lo]
        mid = lo + _split(hi - lo)
        left, right = build(lo, mid), build(mid, hi)
        for m in range(lo, mid):
            paths[m].append(right)
        for m in range(mid, hi):
            paths[m].append(left)
        return _node(left, right)

    return build(0, len(leaves)), paths


def root_from_path(leaf: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes | None:
    """The root that ``path`` leads to from ``leaf`` at ``index`` in a tree of ``size`` leaves.

    RFC 9162 section 2.1.3.2, computing the root rather than comparing it (the caller then checks
    the signatures over it). None when the path cannot belong to such a tree (wrong length, index
    out of range): every shape error is a refusal, never a guess.
    """
    if not 0 <= index < size <= MAX_SIZE:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = _node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None
