"""Privacy use cases: collection policies, pseudonymisation keys, and minimisation on ingest.

:func:`minimise_request` runs in TAXII Add Objects (``accord.services.objects.add_objects``) before
anything is validated, stored or forwarded, so what the node keeps and what its peers receive are
already minimised. The table of what counts as personal data, and what each action does, is
:mod:`accord.domain.privacy`; ``docs/privacy.md`` shows it.

Pseudonyms are ``pseudonym:<key fingerprint>:<HMAC-SHA256 of the value, 128 bits, hex>``. The key
is 32 random bytes, sealed at rest with the node's secrets key exactly as peer credentials are
(:mod:`accord.store.secrets`): a copy of the database alone does not let anyone recompute a
pseudonym from a guessed address or e-mail, which a plain hash would (docs/privacy.md).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from accord.domain.errors import InvalidInput, NotFound
from accord.domain.privacy import KEY_NODE, Minimised, Policy, minimise, parse_policy, policy_from_json
from accord.federation.signing import EXTENSION_ID
from accord.store import privacy as db
from accord.store.repository import Store, Tx

PREFIX = "pseudonym:"
LOOKUP_SCOPE = "lookup"  # the secret the sighting lookup's epoch keys derive from (services.lookup)
OWN_SCOPES = (KEY_NODE, LOOKUP_SCOPE)  # keys the node makes itself on first use
_CONTEXT = b"accord-pseudonym-v1\x00"


def fingerprint(key: bytes) -> str:
    """What names a key in its pseudonyms: a hash of it, which does not help to recompute them."""
    return hashlib.sha256(b"accord-pseudonym-key-v1" + key).hexdigest()[:16]


def pseudonymiser(key: bytes) -> Callable[[str], str]:
    """HMAC-SHA256 under ``key``: equal values give equal pseudonyms, and without the key a pseudonym
    cannot be linked to a guess (RFC 2104; the key is never stored or sent in clear)."""
    label = PREFIX + fingerprint(key) + ":"

    def pseudonym(value: str) -> str:
        if value.startswith(PREFIX):  # minimised already (a copy relayed by a feed): not hashed twice
            return value
        return label + hmac.new(key, _CONTEXT + value.encode(), hashlib.sha256).hexdigest()[:32]

    return pseudonym


def _seal(store: Store, key: bytes) -> str:
    if store.secrets is None:
        raise InvalidInput("this store was opened without the node's secrets key (identity/secrets.key); "
                           "pseudonymisation keys are sealed with it")
    return store.secrets.seal(base64.b64encode(key).decode())


def _open(store: Store, sealed: str) -> bytes:
    if store.secrets is None:
        raise InvalidInput("this store was opened without the node's secrets key (identity/secrets.key)")
    return base64.b64decode(store.secrets.open(sealed))


def key_for(store: Store, scope: str) -> bytes:
    """The key of ``scope``; the node's own ones are created on first use, a group's must be created or
    imported first (:func:`create_group_key`, :func:`import_group_key`)."""
    with store.read() as tx:
        found = db.get_key(tx, scope)
    if found is not None:
        return _open(store, found[0])
    if scope not in OWN_SCOPES:
        raise InvalidInput(f"no pseudonymisation key for {scope}: create one with `accord collection privacy "
                           f"key create --group {scope.removeprefix('group:')}` or import the group's")
    key = os.urandom(32)
    with store.write() as tx:
        if db.get_key(tx, scope) is None:  # another process may have made it meanwhile
            db.put_key(tx, scope, _seal(store, key), fingerprint(key))
            tx.audit(None, None, "privacy.key_created", {"scope": scope, "fingerprint": fingerprint(key)})
            return key
    return key_for(store, scope)


def _group_scope(tx: Tx, group: str) -> str:
    tx.get_group(group)  # NotFound for an unknown group
    return f"group:{group}"


def create_group_key(store: Store, group: str) -> str:
    """A new random key for a sharing group, returned (base64) once to give the group's other nodes;
    refused when the group has one (replacing it would change every pseudonym)."""
    key = os.urandom(32)
    with store.write() as tx:
        scope = _group_scope(tx, group)
        held = db.get_key(tx, scope)
        if held is not None:
            raise InvalidInput(f"group {group} has a pseudonymisation key already (fingerprint {held[1]})")
        db.put_key(tx, scope, _seal(store, key), fingerprint(key))
        tx.audit(None, None, "privacy.key_created", {"scope": scope, "fingerprint": fingerprint(key)})
    return base64.b64encode(key).decode()


def import_group_key(store: Store, group: str, text: str) -> str:
    """Take the key another node of the group created (base64 of 32 bytes); its fingerprint."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise InvalidInput("a pseudonymisation key is base64 of 32 bytes, as `key create` prints it")
    with store.write() as tx:
        scope = _group_scope(tx, group)
        held = db.get_key(tx, scope)
        if held is not None and held[1] != fingerprint(key):
            raise InvalidInput(f"group {group} has another key already (fingerprint {held[1]})")
        db.put_key(tx, scope, _seal(store, key), fingerprint(key))
        tx.audit(None, None, "privacy.key_imported", {"scope": scope, "fingerprint": fingerprint(key)})
    return fingerprint(key)


def list_keys(store: Store) -> list[dict[str, Any]]:
    with store.read() as tx:
        return [{"scope": s, "fingerprint": f, "created": c} for s, f, c in db.list_keys(tx)]


# --- policies ------------------------------------------------------------------------------------

def policy_of(tx: Tx, collection_id: int) -> Policy:
    raw = db.get_policy(tx, collection_id)
    return Policy() if raw is None else policy_from_json(raw)


def set_policy(store: Store, collection: str, actions: Mapping[str, str], own_ranges: Sequence[str] = (),
               key: str | None = None, replace: bool = False) -> Policy:
    """Set actions for categories of a collection (id or alias): merged into its policy, or replacing
    it; ranges and key replace the stored ones when given. Audited with the resulting policy."""
    with store.write() as tx:
        col = tx.find_collection(None, collection)
        held = Policy() if replace else policy_of(tx, col.id)
        merged = {**{c: a.value for c, a in held.actions.items()}, **actions}
        ranges = list(own_ranges) or [str(n) for n in held.own_ranges]
        chosen = key or (KEY_NODE if replace else held.key)
        policy = parse_policy(merged, ranges, chosen)
        if policy.key != KEY_NODE and db.get_key(tx, _group_scope(tx, policy.key.removeprefix("group:"))) is None:
            raise InvalidInput(f"no pseudonymisation key for {policy.key} yet: create or import it first")
        db.set_policy(tx, col.id, policy.to_json())
        tx.audit(None, None, "privacy.set_policy", {"collection": col.uuid, "policy": policy.to_json()})
    return policy


def show_policies(store: Store) -> list[dict[str, Any]]:
    with store.read() as tx:
        held = db.all_policies(tx)
        return [{"collection": c.uuid, "alias": c.alias, "title": c.title,
                 **(policy_from_json(held[c.id]) if c.id in held else Policy()).to_json()}
                for c in tx.list_collections()]


def check_policies(store: Store) -> None:
    """At start: every stored policy parses and its key exists; InvalidInput naming the collection."""
    with store.read() as tx:
        cols = {c.id: c for c in tx.list_collections()}
        for cid, raw in db.all_policies(tx).items():
            where = cols[cid].alias or cols[cid].uuid if cid in cols else f"#{cid}"
            try:
                policy = policy_from_json(raw)
            except InvalidInput as exc:
                raise InvalidInput(f"privacy policy of collection {where}: {exc.message}") from None
            if policy.key != KEY_NODE and db.get_key(tx, policy.key) is None:
                raise InvalidInput(f"privacy policy of collection {where}: no key for {policy.key}")


# --- on ingest -----------------------------------------------------------------------------------

def _signed(obj: Mapping[str, Any]) -> bool:
    extensions = obj.get("extensions")
    return isinstance(extensions, dict) and EXTENSION_ID in extensions


def minimise_request(store: Store, root_id: int, collection: str, objects: Sequence[Any]) -> Minimised:
    """The request's objects with the collection's policy applied (see module docstring). Objects
    signed by another origin are left as they are: their origin minimised them, and a change would
    break the signature. An unknown collection changes nothing here (Add Objects refuses it)."""
    try:
        with store.read() as tx:
            policy = policy_of(tx, tx.find_collection(root_id, collection).id)
    except NotFound:
        return Minimised(list(objects), [])
    if policy.keeps_everything:
        return Minimised(list(objects), [])
    return minimise(objects, policy, pseudonymiser(key_for(store, policy.key)), skip=_signed)
