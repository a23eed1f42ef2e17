"""Node administration: first start, organisations, accounts and keys, groups, collections, loading.

Every change is written to the audit log in the transaction that makes it. Nothing here orphans
stored data: an organisation that owns object versions can be disabled, not removed.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from accord.config import ADMIN_ACCOUNT as ADMIN_ACCOUNT
from accord.config import DEFAULT_COLLECTION_ALIAS as DEFAULT_COLLECTION_ALIAS
from accord.config import DEFAULT_ROOT as DEFAULT_ROOT
from accord.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from accord.domain.model import Organisation, OrgKind, Principal
from accord.domain.sharing import Role
from accord.services import auth
from accord.services import objects as svc
from accord.stix.timestamps import micros_to_timestamp, now_micros
from accord.store.audit import verify_chain
from accord.store.repository import Store, Tx

DEFAULT_MAX_CONTENT = 100 * 1024 * 1024

# An alias is one URL path segment (TAXII 2.1 section 5.2 lets clients use it in place of the id):
# lower-case letters, digits, "-" and "_", starting with a letter or digit, at most 64 characters,
# and never shaped like a collection id, so an alias can never name another collection.
ALIAS_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_UUID_SHAPE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_DURATION = re.compile(r"(\d+)([hdw])")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


@dataclass(frozen=True, slots=True)
class InitResult:
    created: bool
    admin_key: str | None


def audit_actor(actor: Principal | None) -> tuple[int | None, int | None]:
    """Who an audit record names: the console's signed-in administrator, or nobody for the CLI (the
    operator at the node's own files)."""
    return (None, None) if actor is None else (actor.account_id, actor.org_id)


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


def check_host(store: Store, org_name: str, kind: OrgKind, country: str, sectors: tuple[str, ...]) -> None:
    """On a node that exists, ``accord init`` succeeds only if it asks for what the node already is."""
    with store.read() as tx:
        host = tx.get_org(int(tx.get_setting("host_org") or 0))
    asked = {"org": org_name, "kind": kind.value, "country": country.upper(), "sectors": ",".join(sectors)}
    held = {"org": host.name, "kind": host.kind.value, "country": host.country, "sectors": ",".join(host.sectors)}
    differ = [f"{k} {held[k]!r} (asked {asked[k]!r})" for k in asked if asked[k] != held[k]]
    if differ:
        raise Conflict(f"a node exists already here, with {', '.join(differ)}; it was not changed")


def add_org(store: Store, name: str, kind: OrgKind, country: str, sectors: tuple[str, ...],
            actor: Principal | None = None) -> Organisation:
    if len(country) != 2 or not country.isalpha():
        raise InvalidInput(f"country must be a two-letter ISO 3166 code, not {country!r}")
    with store.write() as tx:
        org = tx.add_org(name, kind, country.upper(), sectors, identity_id())
        tx.audit(*audit_actor(actor), "admin.add_org", {"org": name, "kind": kind.value, "country": country.upper()})
    return org


def add_account(store: Store, name: str, org_name: str, role: Role, actor: Principal | None = None) -> tuple[str, str]:
    """Create an account with one API key; returns (key id, key). The key is shown only now."""
    with store.write() as tx:
        org = tx.get_org(org_name)
        account = tx.add_account(org.id, name, role)
        key_id, key = auth.issue_key(tx, account)
        tx.audit(*audit_actor(actor), "admin.add_account", {"account": name, "org": org_name, "role": role.value,
                                                   "key": key_id})
    return key_id, key


def parse_expiry(text: str, now: int | None = None) -> int:
    """``90d``, ``12h`` or ``4w`` from now, or a date (``2027-03-01``: its first instant, UTC) or a
    timestamp (``2027-03-01T12:00:00Z``); in microseconds. It must lie in the future."""
    now = now_micros() if now is None else now
    value = text.strip()
    duration = _DURATION.fullmatch(value)
    if duration:
        when = now + int(_UNITS[duration.group(2)] * int(duration.group(1)) / timedelta(microseconds=1))
    else:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput(f"--expires takes a duration (90d, 12h, 4w) or a date (2027-03-01), "
                               f"not {text!r}") from None
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        when = int((moment - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))
    if when <= now:
        raise InvalidInput(f"--expires {text}: that is not in the future")
    return when


def issue_key(store: Store, account_name: str, expires: int | None = None,
              actor: Principal | None = None) -> tuple[str, str]:
    with store.write() as tx:
        account = tx.account_id(account_name)
        key_id, key = auth.issue_key(tx, account, expires)
        tx.audit(*audit_actor(actor), "admin.issue_key", {"account": account_name, "key": key_id,
                                                 "expires": micros_to_timestamp(expires) if expires else None})
    return key_id, key


def set_password(store: Store, name: str, password: str, actor: Principal | None = None) -> int:
    """Set the password the account signs in to the console with; its open sessions end (someone
    who knew the old one is signed out). Returns how many sessions ended."""
    from accord.services import passwords

    passwords.check_strength(password)
    hashed = passwords.hash_password(password)
    with store.write() as tx:
        account = tx.get_account(name)
        tx.set_password(account.id, hashed, now_micros())
        ended = tx.end_sessions_of(account.id)
        tx.audit(*audit_actor(actor), "admin.set_password", {"account": name, "sessions_ended": ended})
    return ended


def _changeable_account(tx: Tx, name: str) -> int:
    if name == ADMIN_ACCOUNT:
        raise NotAllowed(f"the {ADMIN_ACCOUNT!r} account is the node's own; commands act as it by default")
    return tx.get_account(name).id


def set_account_enabled(store: Store, name: str, enabled: bool, actor: Principal | None = None) -> None:
    """Disable an account (its keys stop authenticating at once, but stay) or enable it again."""
    with store.write() as tx:
        account = _changeable_account(tx, name)
        tx.set_account_disabled(account, None if enabled else now_micros())
        tx.audit(*audit_actor(actor), "admin.enable_account" if enabled else "admin.disable_account", {"account": name})


def remove_account(store: Store, name: str) -> None:
    """Delete an account and its keys. What it wrote stays, owned by its organisation."""
    with store.write() as tx:
        account = _changeable_account(tx, name)
        tx.remove_account(account)
        tx.audit(None, None, "admin.remove_account", {"account": name, "account_id": account})


def _changeable_org(tx: Tx, name: str) -> Organisation:
    org = tx.get_org(name)
    if str(org.id) == tx.get_setting("host_org"):
        raise NotAllowed(f"{name!r} is this node's own organisation")
    return org


def set_org_enabled(store: Store, name: str, enabled: bool, actor: Principal | None = None) -> None:
    """Disable an organisation: none of its accounts authenticates, it reads nothing (so nothing
    is pushed to it if it is a peer), and it gets no early warnings. Its objects stay."""
    with store.write() as tx:
        org = _changeable_org(tx, name)
        tx.set_org_disabled(org.id, None if enabled else now_micros())
        tx.audit(*audit_actor(actor), "admin.enable_org" if enabled else "admin.disable_org", {"org": name})


def remove_org(store: Store, name: str) -> list[str]:
    """Delete an organisation with its accounts, keys, grants, memberships and subscriptions;
    refused while it owns stored objects or is a peer. Returns the accounts removed with it."""
    with store.write() as tx:
        org = _changeable_org(tx, name)
        if tx.peer_of_org(org.id) is not None:
            raise Conflict(f"{name!r} is a peer: remove it with `accord peer remove {name}`")
        _refuse_if_owner(tx, org, "org")
        accounts = tx.remove_org(org.id)
        tx.audit(None, None, "admin.remove_org", {"org": name, "org_id": org.id, "identity": org.identity_id,
                                                  "accounts": accounts})
    return accounts


def _refuse_if_owner(tx: Tx, org: Organisation, kind: str) -> None:
    owned = tx.objects_owned(org.id)
    if owned:
        raise Conflict(f"{org.name!r} owns {owned} stored object version(s); removing it would orphan them. "
                       f"Disable it instead: `accord {kind} disable {org.name}`")


def set_peer_enabled(store: Store, name: str, enabled: bool, actor: Principal | None = None) -> None:
    """Disable a peer: its organisation is disabled, so its node can neither push nor pull here,
    nothing is pushed to it, and pulling from it is refused."""
    with store.write() as tx:
        peer = tx.find_peer(name)
        if peer is None:
            raise NotFound(f"no peer {name!r}")
        tx.set_org_disabled(peer.org_id, None if enabled else now_micros())
        tx.audit(*audit_actor(actor), "admin.enable_peer" if enabled else "admin.disable_peer", {"peer": name})


def remove_peer(store: Store, name: str) -> None:
    """Delete a peer with its organisation and account; refused while that organisation owns
    stored objects (what the peer sent). Its public keys stay: they verify objects relayed by others."""
    with store.write() as tx:
        peer = tx.find_peer(name)
        if peer is None:
            raise NotFound(f"no peer {name!r}")
        org = tx.get_org(peer.org_id)
        _refuse_if_owner(tx, org, "peer")
        tx.remove_peer_row(peer.id)
        accounts = tx.remove_org(org.id)
        tx.audit(None, None, "admin.remove_peer", {"peer": name, "node": peer.node_id, "org_id": org.id,
                                                   "accounts": accounts})


def list_accounts(store: Store) -> list[dict[str, Any]]:
    with store.read() as tx:
        return [{"name": a.name, "org": a.org, "role": a.role,
                 "disabled": micros_to_timestamp(a.disabled) if a.disabled else None,
                 "org_disabled": a.org_disabled is not None} for a in tx.list_accounts()]


def list_keys(store: Store) -> list[dict[str, Any]]:
    now = now_micros()
    with store.read() as tx:
        keys = tx.list_keys()
    return [{"key_id": k.key_id, "account": k.account, "created": micros_to_timestamp(k.created),
             "revoked": micros_to_timestamp(k.revoked) if k.revoked else None,
             "expires": micros_to_timestamp(k.expires) if k.expires else None,
             "expired": k.expires is not None and k.expires <= now} for k in keys]


def revoke_key(store: Store, key_id: str, actor: Principal | None = None) -> None:
    with store.write() as tx:
        tx.revoke_key(key_id)
        tx.audit(*audit_actor(actor), "admin.revoke_key", {"key": key_id})


def create_group(store: Store, name: str, description: str = "", actor: Principal | None = None) -> str:
    """A sharing group and the marking-definition id that restricts objects to it."""
    marking_id = f"marking-definition--{uuid.uuid4()}"
    with store.write() as tx:
        tx.add_group(name, marking_id, description)
        tx.audit(*audit_actor(actor), "admin.create_group", {"group": name, "marking": marking_id})
    return marking_id


def set_group_member(store: Store, group: str, org_name: str, member: bool, actor: Principal | None = None) -> None:
    with store.write() as tx:
        g = tx.get_group(group)
        org = tx.get_org(org_name)
        if not member and org.id not in g.members:
            raise NotFound(f"{org_name!r} is not a member of group {group!r}")
        tx.set_member(g.id, org.id, member)
        tx.audit(*audit_actor(actor), "admin.group_member", {"group": group, "org": org_name, "member": member})


def group_members(store: Store, group: str) -> dict[str, Any]:
    with store.read() as tx:
        g = tx.get_group(group)
        names = {o.id: o.name for o in tx.list_orgs()}
    return {"name": g.name, "marking": g.marking_id, "members": sorted(names[m] for m in g.members)}


def check_alias(alias: str) -> None:
    if not ALIAS_PATTERN.fullmatch(alias):
        raise InvalidInput(f"alias {alias!r} refused: an alias is 1-64 lower-case letters, digits, '-' or '_', "
                           f"starting with a letter or digit (it is used in URLs)")
    if _UUID_SHAPE.fullmatch(alias):
        raise InvalidInput(f"alias {alias!r} refused: it has the shape of a collection id")


def create_collection(store: Store, title: str, alias: str | None, description: str,
                      api_root: str = DEFAULT_ROOT, actor: Principal | None = None) -> str:
    if alias is not None:
        check_alias(alias)
    with store.write() as tx:
        root = tx.get_api_root(api_root)
        if alias is not None and any(c.alias == alias for c in tx.list_collections()):
            raise InvalidInput(f"a collection with alias {alias!r} exists already")
        col = tx.add_collection(root.id, str(uuid.uuid4()), title, description, alias)
        host = tx.get_setting("host_org")
        if host is not None:
            tx.set_access(col.id, int(host), True, True)
        tx.audit(*audit_actor(actor), "admin.create_collection", {"collection": col.uuid, "title": title})
    return col.uuid


def grant(store: Store, collection: str, org_name: str, read: bool, write: bool,
          actor: Principal | None = None) -> None:
    with store.write() as tx:
        col = tx.find_collection(None, collection)
        org = tx.get_org(org_name)
        tx.set_access(col.id, org.id, read, write)
        tx.audit(*audit_actor(actor), "admin.grant", {"collection": col.uuid, "org": org_name, "read": read,
                                             "write": write})


def collection_show(store: Store, collection: str) -> dict[str, Any]:
    """A collection and every organisation that may read or write it."""
    with store.read() as tx:
        col = tx.find_collection(None, collection)
        root = next(r.name for r in tx.list_api_roots() if r.id == col.api_root_id)
        return {"id": col.uuid, "alias": col.alias, "title": col.title, "api_root": root,
                "objects": tx.count_objects(col.id),
                "grants": [{"org": g.org, "read": g.can_read, "write": g.can_write,
                            "org_disabled": g.org_disabled is not None} for g in tx.grants_of(col.id)]}


def principal_for(store: Store, account_name: str) -> Principal:
    """Act as an account from the command line (the operator has the store's files anyway); a
    disabled account or organisation is refused here as its keys are over the API."""
    with store.read() as tx:
        account = tx.get_account(account_name)
        if account.disabled is not None:
            raise NotAllowed(f"account {account_name!r} is disabled")
        if account.org_disabled is not None:
            raise NotAllowed(f"the organisation of account {account_name!r} ({account.org}) is disabled")
        org = tx.get_org(account.org)
        return Principal(account.id, account.name, org.id, Role(account.role), tx.groups_of(org.id))


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
        disabled = tx.disabled_orgs()
        collections = [{"id": c.uuid, "alias": c.alias, "title": c.title, "objects": tx.count_objects(c.id)}
                       for c in tx.list_collections()]
        return {
            "backend": store.backend,
            "organisations": [{"name": o.name, "kind": o.kind.value, "country": o.country,
                               "sectors": list(o.sectors),
                               "disabled": micros_to_timestamp(disabled[o.id]) if o.id in disabled else None}
                              for o in tx.list_orgs()],
            "accounts": [{"name": a.name, "org": a.org, "role": a.role, "disabled": a.disabled is not None}
                         for a in tx.list_accounts()],
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
