"""Shared by the search tests: objects to find, a search as an account, the TAXII read of the same key."""

from __future__ import annotations

import uuid
from typing import Any

from accord.services import admin
from accord.services import search as svc
from accord.store.repository import Store
from tests.privacy.helpers import post, root_of
from tests.stixgen import indicator

T = "2026-01-01T00:00:00.000Z"


def pattern_indicator(pattern: str, name: str = "", **extra: Any) -> dict[str, Any]:
    return indicator(0, object_id=f"indicator--{uuid.uuid4()}", pattern=pattern,
                     name=name or f"indicator {pattern}", **extra)


def sco(kind: str, **props: Any) -> dict[str, Any]:
    return {"type": kind, "spec_version": "2.1", "id": f"{kind}--{uuid.uuid4()}", **props}


def sdo(kind: str, **props: Any) -> dict[str, Any]:
    return {"type": kind, "spec_version": "2.1", "id": f"{kind}--{uuid.uuid4()}", "created": T, "modified": T,
            **props}


def found(store: Store, account: str, text: str) -> dict[str, svc.Hit]:
    return {h.id: h for h in svc.search(store, admin.principal_for(store, account), text).hits}


def taxii_ids(store: Store, account: str) -> set[str]:
    """Every object id a TAXII read by ``account`` returns from the default collection."""
    from accord.services import objects as objects_svc
    from accord.store.objects import ObjectFilter

    principal = admin.principal_for(store, account)
    return {o["id"] for o in objects_svc.readable_objects(store, principal, root_of(store), "default",
                                                          ObjectFilter(), "test")}


__all__ = ["T", "found", "pattern_indicator", "post", "sco", "sdo", "taxii_ids"]
