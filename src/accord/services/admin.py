"""Node administration: first start, organisations, accounts and keys, groups, collections, loading."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from accord.domain.errors import InvalidInput, NotFound
from accord.domain.model import Organisation, OrgKind, Principal
from accord.domain.sharing import Role
from accord.services import auth
from accord.services import objects as svc
from accord.store.audit import verify_chain
from accord.store.repository import Store

DEFAULT_ROOT = "default"
DEFAULT_COLLECTION_ALIAS = "default"
DEFAULT_MAX_CONTENT = 100 * 1024 * 1024
ADMIN_ACCOUNT = "admin"


@dataclass(frozen=True, slots=True)
class InitResult:
    created: bool
    admin_key: str | None


def identity_id() -> str:
    return f"identity--{uuid.uuid4()}"


def init_node(store: Store, org_name: str = "local", kind: OrgKind = OrgKind.GOVERNMENT_CERT,
              country: str = "ZZ", sectors: tuple[str, ...] = ()) -> InitResult:
    """Create the host organisation, the default API root and collection, and the admin account.

    Idempotent: on a node that exists already it changes nothing and shows no key.
    """
    with store.write() as tx:
        if tx.get_setting("initialised") is not None:
            return InitResult(False, None)
        org = tx.add_org(org_name, kind, country.upper(), sectors, identity_id())
        root = tx.add_api_root(DEFAULT_ROOT, "Accord default API root", "", DEFAULT_MAX_CONTENT)
        col = tx.add_collection(root.id, str(uuid.uuid4()), "Default collection",
                                "Shared intelligence of this node", DEFAULT_COLLECTION_ALIAS)
        tx.set_access(col.id, org.id, True, True)
        account = tx.add_account(org.id, ADMIN_ACCOUNT, Role.ADMINISTRATOR)
        key_id, key = auth.issue_key(tx, account)
        tx.set_setting("initialised", "1")
        tx.set_setting("host_org", str(org.id))
        tx.audit(None, None, "node.init", {"org": org_name, "admin_key": key_id})
    return InitResult(True, key)


def add_org(store: Store, name: str, kind: OrgKind, country: str, sectors: tuple[str, ...]) -> Organisation:
    if len(country) != 2 or not country.isalpha():
        raise InvalidInput(f"country must be a two-letter ISO 3166 code, not {country!r}")
    with store.write() as tx:
        org = tx.add_org(name, kind, country.upper(), sectors, identity_id())
        tx.audit(None, None, "admin.add_org", {"org": name, "kind": kind.value, "country": country.upper()})
    return org


def add_account(store: Store, name: str, org_name: str, role: Role) -> tuple[str, str]:
    """Create an account with one API key; returns (key id, key). The key is shown only now."""
    with store.write() as tx:
        org = tx.get_org(org_name)
        account = tx.add_account(org.id, name, role)
        key_id, key = auth.issue_key(tx, account)
        tx.audit(None, None, "admin.add_account", {"account": name, "org": org_name, "role": role.value,
                                                   "key": key_id})
    return key_id, key


def issue_key(store: Store, account_name: str) -> tuple[str, str]:
    with store.write() as tx:
        account = tx.account_id(account_name)
        key_id, key = auth.issue_key(tx, account)
        tx.audit(None, None, "admin.issue_key", {"account": account_name, "key": key_id})
    return key_id, key


def revoke_key(store: Store, key_id: str) -> None:
    with store.write() as tx:
        tx.revoke_key(key_id)
        tx.audit(None, None, "admin.revoke_key", {"key": key_id})


def create_group(store: Store, name: str, description: str = "") -> str:
    """A sharing group and the marking-definition id that restricts objects to it."""
    marking_id = f"marking-definition--{uuid.uuid4()}"
    with store.write() as tx:
        tx.add_group(name, marking_id, description)
        tx.audit(None, None, "admin.create_group", {"group": name, "marking": marking_id})
    return marking_id


def set_group_member(store: Store, group: str, org_name: str, member: bool) -> None:
    with store.write() as tx:
        g = tx.get_group(group)
        org = tx.get_org(org_name)
        tx.set_member(g.id, org.id, member)
        tx.audit(None, None, "admin.group_member", {"group": group, "org": org_name, "member": member})


def create_collection(store: Store, title: str, alias: str | None, description: str,
                      api_root: str = DEFAULT_ROOT) -> str:
    with store.write() as tx:
        root = tx.get_api_root(api_root)
        if alias is not None and any(c.alias == alias for c in tx.list_collections(root.id)):
            raise InvalidInput(f"a collection with alias {alias!r} exists already")
        col = tx.add_collection(root.id, str(uuid.uuid4()), title, description, alias)
        host = tx.get_setting("host_org")
        if host is not None:
            tx.set_access(col.id, int(host), True, True)
        tx.audit(None, None, "admin.create_collection", {"collection": col.uuid, "title": title})
    return col.uuid


def grant(store: Store, collection: str, org_name: str, read: bool, write: bool) -> None:
    with store.write() as tx:
        col = tx.find_collection(None, collection)
        org = tx.get_org(org_name)
        tx.set_access(col.id, org.id, read, write)
        tx.audit(None, None, "admin.grant", {"collection": col.uuid, "org": org_name, "read": read,
                                             "write": write})


def principal_for(store: Store, account_name: str) -> Principal:
    """Act as an account from the command line (the operator has the store's files anyway)."""
    with store.read() as tx:
        for account_id, name, org_name, role in tx.list_accounts():
            if name == account_name:
                org = tx.get_org(org_name)
                return Principal(account_id, name, org.id, Role(role), tx.groups_of(org.id))
    raise NotFound(f"no account {account_name!r}")


def load_bundle(store: Store, principal: Principal, collection: str, stix_objects: list[Any],
                batch: int = 500, progress: Callable[[int], None] | None = None) -> tuple[int, list[dict[str, str]]]:
    """Add a bundle's objects in envelopes of ``batch``; returns (stored, failures)."""
    with store.read() as tx:
        col = tx.find_collection(None, collection)
        roots = {r.id: r for r in tx.list_api_roots()}
    stored, failures = 0, []
    for start in range(0, len(stix_objects), batch):
        chunk = stix_objects[start:start + batch]
        status = svc.add_objects(store, principal, roots[col.api_root_id], col.uuid, chunk)
        stored += status["success_count"]
        failures.extend(status["failures"])
        if progress is not None:
            progress(len(chunk))
    return stored, failures


def read_bundle(raw: bytes, name: str) -> list[Any]:
    try:
        bundle = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"{name}: not valid JSON ({exc})") from None
    if not isinstance(bundle, dict) or bundle.get("type") != "bundle" or not isinstance(bundle.get("objects"), list):
        raise InvalidInput(f"{name}: not a STIX bundle (a JSON object with type 'bundle' and an 'objects' list)")
    objects: list[Any] = bundle["objects"]
    return objects


def node_status(store: Store) -> dict[str, Any]:
    with store.read() as tx:
        collections = [{"id": c.uuid, "alias": c.alias, "title": c.title, "objects": tx.count_objects(c.id)}
                       for c in tx.list_collections()]
        return {
            "backend": store.backend,
            "organisations": [{"name": o.name, "kind": o.kind.value, "country": o.country,
                               "sectors": list(o.sectors)} for o in tx.list_orgs()],
            "accounts": [{"name": a[1], "org": a[2], "role": a[3]} for a in tx.list_accounts()],
            "api_roots": [r.name for r in tx.list_api_roots()],
            "collections": collections,
            "groups": [{"name": g.name, "marking": g.marking_id, "members": len(g.members)}
                       for g in tx.list_groups()],
        }


def verify_audit(store: Store) -> tuple[int, int | None, str]:
    """(records checked, seq of the first bad record or None, why)."""
    with store.read() as tx:
        count, bad, why = verify_chain(tx.audit_records())
    return count, (bad.seq if bad else None), why
