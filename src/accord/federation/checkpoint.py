"""Signed checkpoints of the audit chain's head: what makes a deleted tail visible.

The hash chain (:mod:`accord.store.audit`) shows a record edited, inserted or deleted in the middle,
but a log cut short is still a chain that fits, and whoever can write the table can recompute every
hash after an edit. A checkpoint is the head, record ``seq`` and its ``hash``, at a time ``at``,
signed with the node's federation keys (Ed25519 and ML-DSA-65, both required, as for objects) over
``"accord-audit-checkpoint-v1\\n" || node id || "\\n" || key id || "\\n" || seq || "\\n" || hash ||
"\\n" || at``. Kept off the node (partners fetch ``GET /accord/audit/checkpoint``), it lets
``accord audit verify --expect-head`` prove that the log still holds record ``seq`` with that
hash, hence every record up to it, unchanged.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

from accord.domain.errors import InvalidInput
from accord.federation.signing import PublicKeys, Signer, both_hold
from accord.stix.timestamps import micros_to_timestamp, now_micros
from accord.store.repository import Store

_PREFIX = b"accord-audit-checkpoint-v1\n"
_HASH = re.compile(r"[0-9a-f]{64}\Z")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    node: str  # the node's identity id
    key: str  # the key id that signed
    seq: int
    hash: str
    at: str  # when it was signed (STIX timestamp)
    ed25519: bytes
    ml_dsa_65: bytes

    @property
    def message(self) -> bytes:
        """What both keys sign."""
        return _message(self.node, self.key, self.seq, self.hash, self.at)

    def to_json(self) -> dict[str, Any]:
        return {"node": self.node, "key": self.key, "seq": self.seq, "hash": self.hash, "at": self.at,
                "ed25519": base64.b64encode(self.ed25519).decode(),
                "ml_dsa_65": base64.b64encode(self.ml_dsa_65).decode()}

    @classmethod
    def from_json(cls, raw: Any) -> Checkpoint:
        """The checkpoint in a document as :meth:`to_json` writes it; InvalidInput if it is not one."""
        try:
            if not isinstance(raw, dict):
                raise TypeError("not a JSON object")
            seq, digest = raw["seq"], raw["hash"]
            if type(seq) is not int or seq < 0 or not isinstance(digest, str) or not _HASH.match(digest):
                raise ValueError("seq is a count, hash 64 hexadecimal digits")
            texts = [raw[k] for k in ("node", "key", "at", "ed25519", "ml_dsa_65")]
            if not all(isinstance(t, str) for t in texts):
                raise TypeError("node, key, at and the signatures are strings")
            node, key, at, ed, ml = texts
            return cls(node, key, seq, digest, at, binascii.a2b_base64(ed, strict_mode=True),
                       binascii.a2b_base64(ml, strict_mode=True))
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise InvalidInput(f"not an audit checkpoint: {exc}") from None


def parse_head(text: str) -> tuple[int, str]:
    """``SEQ:HASH`` (a head read from a checkpoint) as (seq, hash); InvalidInput if it is not one."""
    seq, _, digest = text.partition(":")
    digest = digest.lower()
    if not (seq.isascii() and seq.isdigit() and _HASH.match(digest)):
        raise InvalidInput(f"{text!r} is not SEQ:HASH (a record number and its 64 hexadecimal digits)")
    return int(seq), digest


def _message(node: str, key: str, seq: int, digest: str, at: str) -> bytes:
    return b"%s%s\n%s\n%d\n%s\n%s" % (_PREFIX, node.encode(), key.encode(), seq, digest.encode(), at.encode())


def sign(store: Store, signer: Signer) -> Checkpoint:
    """The current head of the audit log, signed now."""
    with store.read() as tx:
        seq, digest = tx.audit_head()
    node, key, at = signer.origin, signer.public.key_id, micros_to_timestamp(now_micros())
    ed, ml = signer.sign_message(_message(node, key, seq, digest, at))
    return Checkpoint(node, key, seq, digest, at, ed, ml)


def verify(checkpoint: Checkpoint, keys: PublicKeys) -> bool:
    """Whether both signatures by ``keys`` cover the checkpoint."""
    return checkpoint.key == keys.key_id and both_hold(keys, checkpoint.ed25519, checkpoint.ml_dsa_65,
                                                       checkpoint.message)


def check_signed_here(store: Store, checkpoint: Checkpoint) -> None:
    """InvalidInput unless this node signed the checkpoint, with any key it ever had (retired ones too)."""
    with store.read() as tx:
        here = tx.get_org(int(tx.get_setting("host_org") or 0)).identity_id
        registered = tx.node_keys().get(checkpoint.key)
    if checkpoint.node != here:
        raise InvalidInput(f"the checkpoint is of node {checkpoint.node}, not of this node ({here})")
    if registered is None or registered[0] != here:
        raise InvalidInput(f"the checkpoint names key {checkpoint.key}, which this node never had")
    if not verify(checkpoint, registered[1]):
        raise InvalidInput("the checkpoint's signature does not verify: it was altered or not signed here")


def head_problem(store: Store, seq: int, digest: str) -> str | None:
    """Why the log does not reach the head (seq, hash) published earlier, or None when it does."""
    with store.read() as tx:
        last, _ = tx.audit_head()
        found = tx.audit_hash(seq)
    if found is None:
        return f"the log ends at record {last} but record {seq} was published: records were deleted"
    if found != digest:
        return f"record {seq} has hash {found}, not the published {digest}: the log was rewritten"
    return None
