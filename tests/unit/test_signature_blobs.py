"""A batch's ML-DSA-65 signature is stored once, however many of its objects are stored; rows written
before that (the signature in each row) still read the same."""

from __future__ import annotations

import os

from sqlalchemy import func, select

from accord.federation.signing import Signature
from accord.store.repository import Store
from accord.store.tables import provenance, signature_blobs


def _signature(seed: int) -> Signature:
    return Signature("identity--origin", "k" * 16, os.urandom(200) + bytes([seed]), os.urandom(3308) + bytes([seed]))


def test_one_copy_per_batch_signature(store: Store) -> None:
    batch, other = _signature(1), _signature(2)
    with store.write() as tx:
        tx.add_provenance([(n, batch, 0, None, frozenset()) for n in range(1, 501)])
        tx.add_provenance([(501, other, 1, None, frozenset({"node-b"}))])
    with store.write() as tx:  # later objects of the same batch, in another transaction (a relay)
        tx.add_provenance([(n, batch, 0, None, frozenset()) for n in range(502, 600)])
    with store.read() as tx:
        assert tx.conn.execute(select(func.count()).select_from(signature_blobs)).scalar_one() == 2
        widest = tx.conn.execute(select(func.max(func.length(provenance.c.ml_dsa_65)))).scalar_one()
        assert widest == 32
        found = tx.signatures_of(list(range(1, 600)))
    assert len(found) == 599
    assert all(found[n] == batch for n in [*range(1, 501), *range(502, 600)])
    assert found[501] == other


def test_rows_written_before_still_read(store: Store) -> None:
    old = _signature(3)
    with store.write() as tx:
        tx.conn.execute(provenance.insert(), {"date_added": 7, "origin": old.origin, "key_id": old.key_id,
                                              "ed25519": old.ed25519, "ml_dsa_65": old.ml_dsa_65, "hops": 0,
                                              "via_peer": None, "covered": ""})
    with store.read() as tx:
        assert tx.signatures_of([7]) == {7: old}
