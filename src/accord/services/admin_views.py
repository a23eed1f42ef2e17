"""What the console's administration pages show: the node's organisations, accounts, keys,
collections, groups, peers and audit log, read for one of the node's own administrators.

The changes these pages make go through accord.services.admin (and accord.federation.peers for a
peer's agreement), which audit each one in its transaction, naming the administrator who made it.
Only an administrator of the host organisation administers the node: an administrator account of
a partner organisation administers nothing here (the same rule as services.transparency).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from accord.domain.errors import NotAllowed
from accord.domain.model import Principal
from accord.domain.sharing import Role
from accord.domain.tlp import Tlp
from accord.federation.model import PeerKind
from accord.federation.pull import peer_account
from accord.stix.timestamps import micros_to_timestamp
from accord.store.repository import Store

AUDIT_PAGE = 50


def is_node_admin(store: Store, principal: Principal) -> bool:
    with store.read() as tx:
        host = tx.get_setting("host_org")
    return principal.role is Role.ADMINISTRATOR and host is not None and str(principal.org_id) == host


def require_node_admin(store: Store, principal: Principal) -> None:
    if not is_node_admin(store, principal):
        raise NotAllowed("only the node's administrators administer it")


def _when(micros: int | None) -> str | None:
    return micros_to_timestamp(micros) if micros else None


def organisations(store: Store) -> list[dict[str, Any]]:
    with store.read() as tx:
        host = tx.get_setting("host_org")
        disabled = tx.disabled_orgs()
        peers = {p.org_id for p in tx.list_peers()}
        accounts: dict[str, int] = {}
        for a in tx.list_accounts():
            accounts[a.org] = accounts.get(a.org, 0) + 1
        return [{"name": o.name, "kind": o.kind.value, "country": o.country, "sectors": ", ".join(o.sectors),
                 "identity": o.identity_id, "host": str(o.id) == host, "peer": o.id in peers,
                 "accounts": accounts.get(o.name, 0), "disabled": _when(disabled.get(o.id))}
                for o in tx.list_orgs()]


def accounts(store: Store) -> list[dict[str, Any]]:
    with store.read() as tx:
        keys: dict[str, int] = {}
        for k in tx.list_keys():
            if k.revoked is None:
                keys[k.account] = keys.get(k.account, 0) + 1
        rows = tx.list_accounts()
        passwords = {a.name for a in rows if (found := tx.password_of(a.name)) and found.password_hash is not None}
        return [{"name": a.name, "org": a.org, "role": a.role, "disabled": _when(a.disabled),
                 "org_disabled": a.org_disabled is not None, "keys": keys.get(a.name, 0),
                 "password": a.name in passwords, "sessions": tx.count_sessions(a.id)}
                for a in rows]


def collections(store: Store) -> list[dict[str, Any]]:
    with store.read() as tx:
        roots = {r.id: r.name for r in tx.list_api_roots()}
        return [{"id": c.uuid, "alias": c.alias, "title": c.title, "description": c.description,
                 "api_root": roots.get(c.api_root_id, ""), "objects": tx.count_objects(c.id),
                 "grants": [{"org": g.org, "read": g.can_read, "write": g.can_write,
                             "org_disabled": g.org_disabled is not None} for g in tx.grants_of(c.id)]}
                for c in tx.list_collections()]


def groups(store: Store) -> list[dict[str, Any]]:
    with store.read() as tx:
        names = {o.id: o.name for o in tx.list_orgs()}
        return [{"name": g.name, "marking": g.marking_id, "members": sorted(names[m] for m in g.members if m in names)}
                for g in tx.list_groups()]


@dataclass(frozen=True, slots=True)
class NodeKey:
    key_id: str
    fingerprint: str


def peers(store: Store) -> dict[str, Any]:
    """Each peer with its agreement (TLP levels and groups that may flow to it), its collections,
    its sync state and the fingerprints of its registered keys; and this node's own keys, whose
    fingerprint peers' administrators confirm out of band."""
    with store.read() as tx:
        host = tx.get_org(int(tx.get_setting("host_org") or 0))
        disabled = tx.disabled_orgs()
        group_names = {g.id: g.name for g in tx.list_groups()}
        col_names = {c.id: c.alias or c.uuid for c in tx.list_collections()}
        keys: dict[str, list[NodeKey]] = {}
        for key_id, (node_id, public) in sorted(tx.node_keys().items()):
            keys.setdefault(node_id, []).append(NodeKey(key_id, public.fingerprint))
        rows = [{"name": p.name, "kind": p.kind.value, "url": p.url, "node_id": p.node_id,
                 "account": peer_account(p.name),
                 "levels": [t.label for t in sorted(p.agreement.levels)],
                 "level_values": sorted(int(t) for t in p.agreement.levels),
                 "groups": sorted(group_names.get(g, f"#{g}") for g in p.agreement.groups),
                 "collections": sorted(col_names.get(c, f"#{c}") for c in p.collections),
                 "push": bool(p.credential) and p.kind is PeerKind.NODE,
                 "last_ok": _when(p.last_ok), "last_error": p.last_error,
                 "disabled": _when(disabled.get(p.org_id)),
                 "node_keys": keys.get(p.node_id or "", [])} for p in tx.list_peers()]
    return {"peers": rows, "node_id": host.identity_id, "own_keys": keys.get(host.identity_id, []),
            "levels": [(str(int(t)), t.label) for t in Tlp], "groups": sorted(group_names.values())}


def audit_page(store: Store, text: str, before: int | None) -> dict[str, Any]:
    """One page of the audit log, newest first, with the names of who acted (the CLI acts as
    nobody: the operator at the node's files)."""
    with store.read() as tx:
        records = tx.audit_search(text, before, AUDIT_PAGE + 1)
        total = tx.audit_count()
        accounts_by_id = {a.id: a.name for a in tx.list_accounts()}
        orgs_by_id = {o.id: o.name for o in tx.list_orgs()}
    more = len(records) > AUDIT_PAGE
    records = records[:AUDIT_PAGE]
    rows = [{"seq": r.seq, "at": micros_to_timestamp(r.at), "action": r.action,
             "account": None if r.account_id is None else accounts_by_id.get(r.account_id, f"#{r.account_id}"),
             "org": None if r.org_id is None else orgs_by_id.get(r.org_id, f"#{r.org_id}"),
             "details": r.details, "hash": r.hash} for r in records]
    return {"rows": rows, "total": total, "older": records[-1].seq if more and records else None}
