"""Decay models per collection (docs/lists.md): set, show, and the scores they give indicators.

The model itself is pure (:mod:`accord.domain.decay`); this module stores it, audits every change,
and scores what a requester may read, through :func:`accord.services.objects.readable_objects`.
"""

from __future__ import annotations

from typing import Any

from accord.domain.decay import DecayModel, indicator_score, is_expired, is_kept, show_duration, sighted_at
from accord.domain.model import ApiRoot, Principal
from accord.services import objects as svc
from accord.stix.timestamps import now_micros
from accord.store import decay as db
from accord.store.objects import ObjectFilter
from accord.store.repository import Store, Tx


def model_json(model: DecayModel | None) -> dict[str, Any] | None:
    if model is None:
        return None
    return {"lifetime": show_duration(model.lifetime), "lifetime_seconds": model.lifetime, "speed": model.speed,
            "threshold": model.threshold, "base": model.base}


def set_model(store: Store, collection: str, model: DecayModel | None) -> None:
    """Set (or with None remove) a collection's decay model (id or alias); audited."""
    with store.write() as tx:
        col = tx.find_collection(None, collection)
        db.set_model(tx, col.id, model)
        tx.audit(None, None, "decay.set_model", {"collection": col.uuid, "model": model_json(model)})


def show_models(store: Store) -> list[dict[str, Any]]:
    with store.read() as tx:
        held = db.all_models(tx)
        return [{"collection": c.uuid, "alias": c.alias, "title": c.title, "model": model_json(held.get(c.id))}
                for c in tx.list_collections()]


def model_in(tx: Tx, root: ApiRoot, collection: str) -> DecayModel | None:
    """The model of a collection named by id or alias under an API root (None: no decay)."""
    return db.get_model(tx, tx.find_collection(root.id, collection).id)


def readable_indicators(store: Store, principal: Principal, root: ApiRoot, collection: str,
                        action: str) -> tuple[list[dict[str, Any]], dict[str, int], DecayModel | None]:
    """What the requester may read of the collection's indicators and sightings, with its model."""
    found = svc.readable_objects(store, principal, root, collection,
                                 ObjectFilter(types=("indicator", "sighting")), action)
    with store.read() as tx:
        model = model_in(tx, root, collection)
    indicators = [o for o in found if o.get("type") == "indicator"]
    return indicators, sighted_at(o for o in found if o.get("type") == "sighting"), model


def scores(store: Store, principal: Principal, collection: str, now: int | None = None) -> list[dict[str, Any]]:
    """Each readable indicator's score under the collection's model, and whether exports keep it."""
    moment = now_micros() if now is None else now
    with store.read() as tx:
        col = tx.find_collection(None, collection)
        root = next(r for r in tx.list_api_roots() if r.id == col.api_root_id)
    indicators, sighted, model = readable_indicators(store, principal, root, col.uuid, "decay.scores")
    out = []
    for ind in indicators:
        ident = str(ind.get("id"))
        score = None if model is None else round(indicator_score(model, ind, sighted.get(ident), moment), 2)
        out.append({"id": ident, "name": ind.get("name", ""), "score": score, "sighted": ident in sighted,
                    "expired": is_expired(ind, moment), "kept": is_kept(model, ind, sighted.get(ident), moment)})
    return out
