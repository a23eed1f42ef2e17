"""Transparency of recipients: who received an organisation's objects, when, and under what; and
what an organisation received, from whom.

Built from the audit log, which records every read that returned something not TLP:CLEAR (TAXII
reads and sensor exports, ``accord.services.objects._audit_read``) and everything that left for a
peer node (push and signed pull, ``accord.federation.outbound.record_egress``) or was named in an
early warning (webhook, stream: ``accord.federation.early_warning``). TLP:CLEAR is not
recorded there, by design: it may go to anyone, so no report can list its recipients.

"Under which agreement": for a peer node, the sharing agreement it has now (levels and sharing
groups; the egress record does not keep the agreement of the day); for a local organisation, its
grant on the collection read. The owner of a version is read from the store, so a version purged or
withdrawn since shows as no longer held.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select

from accord.domain.errors import NotAllowed
from accord.domain.model import Principal
from accord.domain.sharing import Role
from accord.stix.timestamps import key_to_display, micros_to_timestamp
from accord.store.audit import EGRESS_ACTIONS, WARNING_STREAM, WARNING_WEBHOOK
from accord.store.repository import Store, Tx
from accord.store.tables import objects

READ_ACTIONS = ("taxii.get_objects", "taxii.get_object", "taxii.get_manifest", "taxii.get_versions",
                "export.indicators", "console.object")
CONSOLE_WARNINGS = "console.warnings"  # warnings shown on the console's dashboard (services.dashboard)
WARNING_ACTIONS = (WARNING_WEBHOOK, WARNING_STREAM, CONSOLE_WARNINGS)
# these return metadata only
_BODIES = {"taxii.get_manifest": False, "taxii.get_versions": False, WARNING_WEBHOOK: False, WARNING_STREAM: False,
           CONSOLE_WARNINGS: False}


@dataclass(frozen=True, slots=True)
class Receipt:
    """One version that one recipient received."""

    at: str
    recipient: str  # organisation name (a peer node's organisation for federation)
    owner: str  # organisation that owns the version here ("" when no longer held)
    object_id: str
    version: str
    action: str
    via: str  # "peer NAME", "collection ALIAS", "webhook NAME (ORG)" or "stream (ORG)"
    agreement: str
    content: bool  # the object itself, not only its id and version (manifest, versions)


def _owners(tx: Tx) -> dict[tuple[str, str], int]:
    """(id, version as the audit log shows it) -> owner org, for every stored version."""
    o = objects.c
    out: dict[tuple[str, str], int] = {}
    for object_id, version, date_added, owner in tx.conn.execute(select(o.id, o.version, o.date_added, o.owner_org)):
        out[(object_id, key_to_display(version) if version else micros_to_timestamp(date_added))] = owner
    return out


def receipts(store: Store) -> list[Receipt]:
    """Every recorded receipt, oldest first."""
    with store.read() as tx:
        orgs = {org.id: org.name for org in tx.list_orgs()}
        peers = {p.name: p for p in tx.list_peers()}
        collections = {c.uuid: c for c in tx.list_collections()}
        owners = _owners(tx)
        grants = {(c.id, g.org): g for c in collections.values() for g in tx.grants_of(c.id)}
        out: list[Receipt] = []
        for record, _ in tx.audit_records():
            if record.action in WARNING_ACTIONS:
                # an early warning names the object (id, type, name), not its body
                recipient = orgs.get(record.org_id or -1, "?")
                via = str(record.details.get("to", "early warning"))
                agreement = "read access to the collection (early-warning subscription)"
            elif record.action in EGRESS_ACTIONS:
                peer = peers.get(record.details.get("peer", ""))
                recipient = orgs.get(record.org_id or -1, record.details.get("peer", "?"))
                via = f"peer {record.details.get('peer')}"
                agreement = ("peer removed since" if peer is None else
                             "levels " + ",".join(t.label for t in sorted(peer.agreement.levels))
                             + (f"; groups {sorted(peer.agreement.groups)}" if peer.agreement.groups else ""))
            elif record.action in READ_ACTIONS and record.org_id is not None:
                col = collections.get(record.details.get("collection", ""))
                recipient = orgs.get(record.org_id, str(record.org_id))
                via = f"collection {col.alias or col.uuid}" if col else "collection removed since"
                grant = None if col is None else grants.get((col.id, recipient))
                agreement = ("no grant now" if grant is None else
                             f"grant read={grant.can_read} write={grant.can_write}")
            else:
                continue
            at = micros_to_timestamp(record.at)
            for object_id, version in record.details.get("objects", []):
                owner = owners.get((object_id, version))
                out.append(Receipt(at, recipient, "" if owner is None else orgs.get(owner, ""), object_id, version,
                                   record.action, via, agreement, _BODIES.get(record.action, True)))
        return out


def _org_allowed(store: Store, principal: Principal, org: str | None) -> str:
    """The organisation a report is about: the requester's own; another only for the host's administrators."""
    with store.read() as tx:
        own = tx.get_org(principal.org_id).name
        host = tx.get_setting("host_org")
        if org is None or org == own:
            return own
        tx.get_org(org)  # NotFound for an unknown one
    if principal.role is not Role.ADMINISTRATOR or str(principal.org_id) != host:
        raise NotAllowed("only the node's administrators see reports of other organisations")
    return org


def sent(store: Store, principal: Principal, org: str | None = None) -> list[dict[str, Any]]:
    """Who received ``org``'s objects (not counting ``org`` itself)."""
    name = _org_allowed(store, principal, org)
    return [asdict(r) for r in receipts(store) if r.owner == name and r.recipient != name]


def received(store: Store, principal: Principal, org: str | None = None) -> list[dict[str, Any]]:
    """What ``org`` received, and from which owner (its own objects left out)."""
    name = _org_allowed(store, principal, org)
    return [asdict(r) for r in receipts(store) if r.recipient == name and r.owner != name]
