"""Shared by the privacy tests: a store with the node's secrets key, objects carrying personal data."""

from __future__ import annotations

import os
import uuid
from typing import Any

from accord.domain.model import ApiRoot, Principal
from accord.services import admin
from accord.services import objects as svc
from accord.store.repository import Store
from accord.store.secrets import SecretBox

T = "2026-01-01T00:00:00.000Z"


def with_secrets(store: Store) -> Store:
    """As the composition root opens a store: with a secrets key (pseudonymisation keys are sealed)."""
    store.secrets = SecretBox(os.urandom(32))
    return store


def root_of(store: Store) -> ApiRoot:
    with store.read() as tx:
        return tx.get_api_root("default")


def post(store: Store, account: str, objects: list[dict[str, Any]], collection: str = "default") -> dict[str, Any]:
    principal: Principal = admin.principal_for(store, account)
    return svc.add_objects(store, principal, root_of(store), collection, objects)


def email(value: str) -> dict[str, Any]:
    return {"type": "email-addr", "spec_version": "2.1", "id": f"email-addr--{uuid.uuid4()}", "value": value}


def account(login: str, user_id: str, name: str) -> dict[str, Any]:
    return {"type": "user-account", "spec_version": "2.1", "id": f"user-account--{uuid.uuid4()}",
            "account_type": "windows-domain", "account_login": login, "user_id": user_id, "display_name": name}


def address(value: str) -> dict[str, Any]:
    kind = "ipv6-addr" if ":" in value else "ipv4-addr"
    return {"type": kind, "spec_version": "2.1", "id": f"{kind}--{uuid.uuid4()}", "value": value}


def observed(refs: list[str], note: str = "") -> dict[str, Any]:
    obj: dict[str, Any] = {"type": "observed-data", "spec_version": "2.1", "id": f"observed-data--{uuid.uuid4()}",
                           "created": T, "modified": T, "first_observed": T, "last_observed": T,
                           "number_observed": 1, "object_refs": refs}
    if note:
        obj["description"] = note
    return obj


def sighting(of: str, note: str, observed_refs: list[str] | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {"type": "sighting", "spec_version": "2.1", "id": f"sighting--{uuid.uuid4()}",
                           "created": T, "modified": T, "sighting_of_ref": of, "description": note}
    if observed_refs:
        obj["observed_data_refs"] = observed_refs
    return obj


def everything_stored(store: Store) -> bytes:
    """Every byte of every row of every table: where a clear value must not be."""
    from sqlalchemy import select

    from accord.store.tables import metadata

    chunks: list[bytes] = []
    with store.read() as tx:
        for table in metadata.sorted_tables:
            for row in tx.conn.execute(select(table)):
                for value in row:
                    chunks.append(value if isinstance(value, bytes) else str(value).encode())
    return b"\n".join(chunks)
