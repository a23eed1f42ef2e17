"""Peer credentials (secrets this node must present) are sealed at rest with a key outside the database."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from accord.bootstrap import open_store
from accord.config import Settings
from accord.domain.model import OrgKind
from accord.domain.sharing import Agreement
from accord.domain.tlp import Tlp
from accord.federation.model import PeerKind
from accord.services import admin
from accord.store.secrets import SecretBox, SecretError, is_sealed
from accord.store.tables import peers


def test_seal_and_open(tmp_path: Path) -> None:
    box = SecretBox.load_or_create(tmp_path / "identity" / "secrets.key")
    assert stat.S_IMODE((tmp_path / "identity" / "secrets.key").stat().st_mode) == 0o600
    sealed = box.seal("acc_0123_secret")
    assert is_sealed(sealed) and "acc_0123_secret" not in sealed
    assert sealed != box.seal("acc_0123_secret")  # a fresh nonce every time
    assert box.open(sealed) == "acc_0123_secret"
    assert SecretBox.load_or_create(tmp_path / "identity" / "secrets.key").open(sealed) == "acc_0123_secret"
    assert box.open("user:password") == "user:password"  # written before sealing existed


def test_another_key_or_a_changed_value_does_not_open(tmp_path: Path) -> None:
    box = SecretBox.load_or_create(tmp_path / "a.key")
    sealed = box.seal("acc_0123_secret")
    with pytest.raises(SecretError):
        SecretBox.load_or_create(tmp_path / "b.key").open(sealed)
    flipped = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
    with pytest.raises(SecretError):
        box.open(flipped)
    with pytest.raises(SecretError):
        box.open("sealed:v1:not base64!")
    (tmp_path / "short.key").write_bytes(b"x" * 5)
    with pytest.raises(SecretError):
        SecretBox.load_or_create(tmp_path / "short.key")


def test_the_database_holds_no_peer_credential_in_clear(tmp_path: Path) -> None:
    settings = Settings(tmp_path / "node")
    store = open_store(settings)
    admin.init_node(store)
    org = admin.add_org(store, "peer-org", OrgKind.GOVERNMENT_CERT, "FR", ())
    with store.write() as tx:
        peer_id = tx.add_peer("B", PeerKind.NODE, org.id, None, "http://127.0.0.1:1/", "default", "default",
                              [], Agreement(frozenset({Tlp.CLEAR, Tlp.GREEN}), frozenset()))
        tx.update_peer(peer_id, credential="acc_feed_s3cret-value")
    with store.read() as tx:
        raw = tx.conn.execute(select(peers.c.credential)).scalar_one()
        peer = tx.find_peer("B")
    assert is_sealed(raw) and "s3cret" not in raw
    assert peer is not None and peer.credential == "acc_feed_s3cret-value"
    store.close()

    # the database alone (a copy, a dump, a server elsewhere) does not give it up
    bare = open_store(settings, migrate=False)
    bare.secrets = None
    with bare.read() as tx, pytest.raises(SecretError):
        tx.find_peer("B")
    bare.close()

