"""Signed checkpoints of the audit chain's head: a log cut short or rewritten no longer reaches one,
though its chain alone still verifies."""

from __future__ import annotations

import base64
import dataclasses
import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from accord.cli import cli
from accord.domain.errors import InvalidInput
from accord.domain.model import OrgKind
from accord.federation import checkpoint as checkpoints
from accord.federation.runtime import install
from accord.federation.signing import PublicKeys, load_or_create
from accord.services import admin
from accord.store.audit import GENESIS, record_hash
from accord.store.repository import Store
from accord.store.tables import audit_log
from accord.web.app import create_app
from tests.conftest import Node


def _origin(store: Store) -> str:
    with store.read() as tx:
        return tx.get_org(int(tx.get_setting("host_org") or 0)).identity_id


def _rewrite_from(store: Store, seq: int) -> None:
    """What someone who can write the table does: change record ``seq`` and recompute every hash after it."""
    with store.write(audit_only=True) as tx:
        records = [r for r, _ in tx.audit_records()]
        prev = GENESIS
        for r in records:
            details = orjson.dumps({"edited": True} if r.seq == seq else r.details, option=orjson.OPT_SORT_KEYS)
            digest = record_hash(prev, r.seq, r.at, r.account_id, r.org_id, r.action, details)
            tx.conn.execute(audit_log.update().where(audit_log.c.seq == r.seq)
                            .values(details=details, prev_hash=prev, hash=digest))
            prev = digest


def test_a_checkpoint_verifies_with_the_node_keys_and_not_once_altered(node: Node, tmp_path: Path) -> None:
    signer = load_or_create(tmp_path, _origin(node.store))
    cp = checkpoints.sign(node.store, signer)
    with node.store.read() as tx:
        assert (cp.seq, cp.hash) == tx.audit_head() and cp.seq > 5
    assert checkpoints.verify(cp, signer.public)
    assert checkpoints.verify(checkpoints.Checkpoint.from_json(orjson.loads(orjson.dumps(cp.to_json()))),
                              signer.public)
    other = cp.hash[:-1] + ("0" if cp.hash[-1] != "0" else "1")
    for altered in (dataclasses.replace(cp, seq=cp.seq + 1), dataclasses.replace(cp, hash=other),
                    dataclasses.replace(cp, at="2020-01-01T00:00:00.000000Z"),
                    dataclasses.replace(cp, node="identity--00000000-0000-4000-8000-000000000000"),
                    dataclasses.replace(cp, ed25519=bytes(64)),
                    dataclasses.replace(cp, ml_dsa_65=cp.ml_dsa_65[:-1] + bytes([cp.ml_dsa_65[-1] ^ 1]))):
        assert not checkpoints.verify(altered, signer.public)
    forger = load_or_create(tmp_path / "forger", cp.node).public
    assert not checkpoints.verify(dataclasses.replace(cp, key=forger.key_id), forger)
    assert not checkpoints.verify(cp, PublicKeys(cp.key, forger.ed25519, forger.ml_dsa_65))


def test_the_log_must_reach_a_published_head(node: Node) -> None:
    with node.store.read() as tx:
        seq, digest = tx.audit_head()
    assert checkpoints.head_problem(node.store, seq, digest) is None
    admin.add_org(node.store, "later-co", OrgKind.COMPANY, "BE", ())  # the log goes on growing
    assert checkpoints.head_problem(node.store, seq, digest) is None

    with node.store.write() as tx:
        tx.conn.execute(audit_log.delete().where(audit_log.c.seq > seq - 2))
    assert admin.verify_audit(node.store)[1] is None  # a chain cut short still fits together
    problem = checkpoints.head_problem(node.store, seq, digest)
    assert problem is not None and "deleted" in problem and f"ends at record {seq - 2}" in problem


def test_a_rewritten_log_does_not_reach_the_published_head(node: Node) -> None:
    with node.store.read() as tx:
        seq, digest = tx.audit_head()
    _rewrite_from(node.store, 2)
    assert admin.verify_audit(node.store)[1] is None  # every hash recomputed: the chain alone fits
    problem = checkpoints.head_problem(node.store, seq, digest)
    assert problem is not None and "rewritten" in problem


def _run(*args: str, code: int = 0) -> Any:
    result = CliRunner().invoke(cli, [*args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    return orjson.loads(lines[-1]) if lines else result.output


def test_audit_verify_expect_head_from_the_command_line(tmp_path: Path) -> None:
    d = ["--data-dir", str(tmp_path / "n"), "--json"]
    _run("init", *d)
    _run("org", "add", "grid-op", "--kind", "company", "--country", "fr", *d)
    cp = _run("audit", "checkpoint", *d)
    published = tmp_path / "checkpoint.json"
    published.write_bytes(orjson.dumps(cp))
    head = f"{cp['seq']}:{cp['hash']}"
    assert _run("audit", "verify", "--expect-head", f"@{published}", *d)["ok"] is True
    _run("org", "add", "health-isac", "--kind", "sector-isac", "--country", "nl", *d)
    assert _run("audit", "verify", "--expect-head", head, *d) == {"ok": True, "records": cp["seq"] + 1,
                                                                  "expected_seq": cp["seq"]}

    forged = tmp_path / "forged.json"
    forged.write_bytes(orjson.dumps({**cp, "seq": cp["seq"] - 1}))
    assert "signature does not verify" in _run("audit", "verify", "--expect-head", f"@{forged}",
                                               "--data-dir", str(tmp_path / "n"), code=1)
    assert "not SEQ:HASH" in _run("audit", "verify", "--expect-head", "12", "--data-dir", str(tmp_path / "n"),
                                  code=1)

    with sqlite3.connect(tmp_path / "n" / "accord.db") as db:
        db.execute("DELETE FROM audit_log WHERE seq > ?", (cp["seq"] - 1,))
    assert _run("audit", "verify", *d)["ok"] is True  # the chain alone misses a deleted tail
    broken = _run("audit", "verify", "--expect-head", f"@{published}", *d, code=1)
    assert broken["ok"] is False and "records were deleted" in broken["reason"]
    plain = _run("audit", "verify", "--expect-head", head, "--data-dir", str(tmp_path / "n"), code=1)
    assert "BROKEN" in plain and "deleted" in plain


def test_audit_verify_expect_head_fails_on_a_rewritten_log(tmp_path: Path) -> None:
    d = ["--data-dir", str(tmp_path / "n"), "--json"]
    _run("init", *d)
    cp = _run("audit", "checkpoint", *d)
    store = Store.open(f"sqlite:///{tmp_path / 'n' / 'accord.db'}")
    try:
        _rewrite_from(store, 1)
    finally:
        store.close()
    assert _run("audit", "verify", *d)["ok"] is True  # every hash recomputed: the chain alone fits
    broken = _run("audit", "verify", "--expect-head", f"{cp['seq']}:{cp['hash']}", *d, code=1)
    assert broken["ok"] is False and "rewritten" in broken["reason"]


def test_the_checkpoint_endpoint_serves_a_signed_head_to_any_account(node: Node, tmp_path: Path) -> None:
    install(node.store, tmp_path)
    with TestClient(create_app(node.store)) as client:
        assert client.get("/accord/audit/checkpoint").status_code == 401
        resp = client.get("/accord/audit/checkpoint", headers=node.auth("health-isac-reader"))
        assert resp.status_code == 200, resp.text
        identity = client.get("/federation/identity/").json()
    cp = checkpoints.Checkpoint.from_json(resp.json())
    [key] = [k for k in identity["keys"] if k["key_id"] == cp.key]
    keys = PublicKeys(cp.key, *(base64.b64decode(key[n]) for n in ("ed25519", "ml_dsa_65")))
    assert cp.node == identity["node_id"] and checkpoints.verify(cp, keys)
    with node.store.read() as tx:
        assert (cp.seq, cp.hash) == tx.audit_head()
    checkpoints.check_signed_here(node.store, cp)
    with pytest.raises(InvalidInput, match="does not verify"):
        checkpoints.check_signed_here(node.store, dataclasses.replace(cp, seq=cp.seq - 1))
