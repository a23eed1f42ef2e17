"""The decay models of collections (migration 0011), over the caller's transaction.

Kept out of ``Tx``'s mixins, as :mod:`accord.store.privacy` is, so the capability stays in its module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from accord.domain.decay import DecayModel
from accord.stix.timestamps import now_micros
from accord.store.tables import decay_models

if TYPE_CHECKING:
    from accord.store.repository import Tx

_c = decay_models.c


def _model(row: tuple[int, float, float, int]) -> DecayModel:
    return DecayModel(int(row[0]), float(row[1]), float(row[2]), int(row[3]))


def get_model(tx: Tx, collection_id: int) -> DecayModel | None:
    row = tx.conn.execute(select(_c.lifetime, _c.speed, _c.threshold, _c.base)
                          .where(_c.collection_id == collection_id)).first()
    return None if row is None else _model((row[0], row[1], row[2], row[3]))


def all_models(tx: Tx) -> dict[int, DecayModel]:
    return {r[0]: _model((r[1], r[2], r[3], r[4])) for r in tx.conn.execute(
        select(_c.collection_id, _c.lifetime, _c.speed, _c.threshold, _c.base))}


def set_model(tx: Tx, collection_id: int, model: DecayModel | None) -> None:
    """Replace the collection's model; None removes it (indicators then expire by valid_until only)."""
    tx.conn.execute(delete(decay_models).where(_c.collection_id == collection_id))
    if model is not None:
        tx.conn.execute(decay_models.insert(), {
            "collection_id": collection_id, "lifetime": model.lifetime, "speed": model.speed,
            "threshold": model.threshold, "base": model.base, "updated": now_micros()})
