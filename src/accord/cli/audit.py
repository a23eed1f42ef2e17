"""Commands of the hash-chained audit log: verify, checkpoint, egress."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from accord.cli.common import node_options, out, store_for
from accord.config import Settings
from accord.domain.errors import InvalidInput
from accord.stix.timestamps import micros_to_timestamp

if TYPE_CHECKING:
    from accord.store.repository import Store


@click.group()
def audit() -> None:
    """The hash-chained audit log, its signed checkpoints, and what left for peer nodes."""


def _expected_head(store: Store, text: str) -> tuple[int, str]:
    """SEQ:HASH as given, or the head of a checkpoint file (@FILE) once its signature is checked."""
    import orjson

    from accord.federation import checkpoint as checkpoints

    if not text.startswith("@"):
        return checkpoints.parse_head(text)
    path = Path(text[1:])
    try:
        raw = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise InvalidInput(f"cannot read checkpoint {path}: {exc}") from None
    checkpoint = checkpoints.Checkpoint.from_json(raw)
    checkpoints.check_signed_here(store, checkpoint)
    return checkpoint.seq, checkpoint.hash


@audit.command("verify")
@click.option("--expect-head", metavar="SEQ:HASH|@FILE",
              help="A head published earlier (`accord audit checkpoint`), or a checkpoint file whose "
                   "signature is checked: fail if the log no longer reaches it.")
@node_options
def audit_verify(settings: Settings, expect_head: str | None) -> None:
    """Recompute the chain; exit 1 and name the first bad record if it is broken, or say that it was
    cut short or rewritten before the expected head."""
    from accord.federation import checkpoint as checkpoints
    from accord.services import admin

    store = store_for(settings)
    expected = _expected_head(store, expect_head) if expect_head else None
    count, bad, why = admin.verify_audit(store)
    if bad is not None:
        out().message(f"audit log BROKEN at record {bad}: {why}", {"ok": False, "records": count, "bad_seq": bad,
                                                                   "reason": why})
        raise SystemExit(1)
    if expected is None:
        out().message(f"audit log intact: {count} records", {"ok": True, "records": count})
        return
    seq, digest = expected
    problem = checkpoints.head_problem(store, seq, digest)
    if problem is not None:
        out().message(f"audit log BROKEN: {problem}", {"ok": False, "records": count, "expected_seq": seq,
                                                       "reason": problem})
        raise SystemExit(1)
    out().message(f"audit log intact: {count} records, record {seq} as published",
                  {"ok": True, "records": count, "expected_seq": seq})


@audit.command("checkpoint")
@node_options
def audit_checkpoint(settings: Settings) -> None:
    """The head of the log (seq, hash), signed with the node's keys: keep it off the node."""
    from accord.federation import checkpoint as checkpoints
    from accord.federation.runtime import install

    store = store_for(settings)
    checkpoint = checkpoints.sign(store, install(store, settings.data_dir).signer)
    out().message(f"record {checkpoint.seq} hash {checkpoint.hash} at {checkpoint.at}\n"
                  f"signed by {checkpoint.node} with key {checkpoint.key}", checkpoint.to_json())


@audit.command("egress")
@click.option("--peer", help="Only what this recipient received: a peer node's name, or an early-warning "
              "channel as listed (\"webhook NAME (ORG)\", \"stream (ORG)\").")
@click.option("--object", "object_id", help="Only the versions of this object id.")
@node_options
def audit_egress(settings: Settings, peer: str | None, object_id: str | None) -> None:
    """Which peer node (by push or signed pull) or early-warning channel (webhook, stream) received which
    version (not TLP:CLEAR) and when."""
    with store_for(settings).read() as tx:
        records = tx.egress(peer, object_id)
    raw = [{"seq": r.seq, "at": micros_to_timestamp(r.at), "action": r.action, "peer": r.peer, "id": i,
            "version": v} for r in records for i, v in r.objects]
    out().table("Sent to peer nodes and early-warning channels", ["seq", "at", "action", "peer", "id", "version"],
                [tuple(r.values()) for r in raw], raw)


commands: list[click.Command] = [audit]
