"""What the console's dashboard shows an organisation, each part read through an existing service.

* **Early warnings** and **newly corroborated indicators**: the recent object log run through the
  early-warning derivation (:func:`accord.federation.early_warning.derive`) and kept only when
  :func:`~accord.federation.early_warning.visible` says the organisation would receive it on its
  stream (collection access, then :func:`may_read`), under its subscriptions' filters (any of them),
  or the default filter (indicators) when it has none. What is shown is recorded on the egress
  record like a stream's warnings (``console.warnings``), TLP:CLEAR excepted.
* **Consultations waiting for our answer** and **incidents**: the coordination services, which read
  through TAXII's path (``Workspace.read``).
* **Ingest over time**: versions added per day that the organisation may read (the TAXII manifest
  path, :func:`accord.services.objects.visible_page`), never a count of the whole store.
* **Peers' sync health** (:func:`accord.federation.peers.sync_status`): queue depths count every
  stored version, readable or not, so administrators only.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from accord.coordination import consultations, incidents, summaries
from accord.coordination.stix import WARNING as COORDINATION_WARNING
from accord.coordination.workspace import Workspace
from accord.domain.coordination.consultation import State
from accord.domain.errors import AccordError
from accord.domain.model import Principal
from accord.domain.sharing import Role, effective_tlp
from accord.federation import early_warning as ew
from accord.federation.model import EarlyWarning, WarningFilter, filter_from_json
from accord.services import advisories, notices
from accord.services import objects as reads
from accord.services.transparency import CONSOLE_WARNINGS
from accord.stix.timestamps import micros_to_timestamp, now_micros
from accord.store.objects import ObjectFilter, VersionFilter
from accord.store.repository import Store

DAY = 86_400_000_000
LOOK_BACK_DAYS = 7  # early warnings from this far back
LOG_PAGE, LOG_PAGES = 2_000, 10  # at most this much of the object log is read for warnings
SHOWN = 10
CHART_DAYS = 30
CHART_PAGES = 20  # pages of the manifest path read for the chart (then the count is "at least")
WARNING_TYPES = ("indicator", "sighting", "identity", "relationship", COORDINATION_WARNING)


@dataclass(frozen=True, slots=True)
class Alert:
    at: str
    object_id: str
    type: str
    priority: str
    name: str
    corroborated_by: list[str]
    tlp: str


@dataclass(frozen=True, slots=True)
class Dashboard:
    warnings: list[Alert]
    corroborated: list[Alert]
    waiting: list[dict[str, Any]]  # consultations addressed to us, not answered yet (summaries.consultation)
    incidents: list[dict[str, Any]]
    coordination: str  # why coordination is not shown ("" when it is)
    ingest: list[tuple[str, int]]  # (day, readable versions added)
    ingest_capped: bool
    peers: list[dict[str, Any]] | None  # None: not an administrator
    drafts: int | None = None  # advisories waiting for review that the principal sees (None: a reader)
    unacknowledged: int = 0  # notices to organisations it covers that nobody acknowledged


def _filters(store: Store, principal: Principal) -> list[WarningFilter]:
    with store.read() as tx:
        subs = [s for s in tx.list_subscriptions() if s.org_id == principal.org_id]
    found = []
    for s in subs:
        try:
            found.append(filter_from_json(orjson.loads(s.filter)))
        except (AssertionError, ValueError, KeyError, TypeError, orjson.JSONDecodeError):
            continue
    return found or [WarningFilter()]


def _recent_log(store: Store, since: int, now: int) -> list[Any]:
    """The object log's rows of WARNING_TYPES in the widest recent window (from ``since``, then a day,
    an hour, five minutes back) that holds at most LOG_PAGE * LOG_PAGES versions of any type, so
    the newest are always read and never more than that many."""
    cap = LOG_PAGE * LOG_PAGES
    with store.read() as tx:
        after = next((a for a in (since, now - DAY, now - DAY // 24, now - DAY // 288)
                      if tx.pending_count(a) <= cap), now - DAY // 288)
    out: list[Any] = []
    for _ in range(LOG_PAGES):
        with store.read() as tx:
            rows = tx.outbound(after, LOG_PAGE, types=WARNING_TYPES, until=2**62)
        out.extend(rows)
        if len(rows) < LOG_PAGE:
            break
        after = rows[-1].date_added
    return out


def warnings(store: Store, principal: Principal, now: int) -> list[tuple[Any, EarlyWarning]]:
    """(log row, warning) the organisation's stream would carry, newest first, one per object."""
    rows = _recent_log(store, now - LOOK_BACK_DAYS * DAY, now)
    filters = _filters(store, principal)
    graph = ew.Graph()
    seen: dict[str, tuple[Any, EarlyWarning]] = {}
    with store.read() as tx:
        for row, warning, confidence in ew.derive(tx, rows, graph):
            if any(ew.visible(tx, principal.org_id, principal.groups, f, row, warning, confidence, graph)
                   for f in filters):
                seen[warning.object_id] = (row, warning)  # a later warning of the same object replaces it
    return sorted(seen.values(), key=lambda rw: -rw[1].date_added)


def _shown(store: Store, principal: Principal, found: list[tuple[Any, EarlyWarning]]) -> list[Alert]:
    out, sensitive = [], []
    with store.read() as tx:
        names = {o.identity_id: o.name for o in tx.list_orgs()}
        names.update({p.node_id: p.name for p in tx.list_peers() if p.node_id})
    for row, w in found:
        out.append(Alert(micros_to_timestamp(w.date_added)[:19] + "Z", w.object_id, w.type, w.priority, w.name,
                           sorted(names.get(o, o) for o in w.corroborated_by), effective_tlp(row.visibility).label))
        pair = ew.sensitive(row)
        if pair is not None:
            sensitive.append(pair)
    if sensitive:
        with store.write(audit_only=True) as tx:
            tx.audit(principal.account_id, principal.org_id, CONSOLE_WARNINGS,
                     {"to": "console dashboard", "objects": sensitive})
    return out


def ingest(store: Store, principal: Principal, now: int, days: int = CHART_DAYS) -> tuple[list[tuple[str, int]], bool]:
    """Readable versions added per day over the last ``days`` days (UTC), oldest day first."""
    today = datetime.fromtimestamp(now / 1e6, UTC).date()
    labels = [(today - timedelta(days=n)).isoformat() for n in range(days - 1, -1, -1)]
    start = int(datetime.combine(today - timedelta(days=days - 1), datetime.min.time(), UTC).timestamp() * 1e6)
    counts: Counter[str] = Counter()
    capped = False
    flt = ObjectFilter(versions=VersionFilter(all=True), added_after=start - 1)
    with store.read() as tx:
        access = tx.access_of(principal.org_id)
        for collection in tx.list_collections():
            grant = access.get(collection.id)
            if grant is None or not grant.can_read:
                continue
            after = None
            for _ in range(CHART_PAGES):
                page = reads.visible_page(tx, principal, collection, flt, after, with_body=False)
                counts.update(micros_to_timestamp(v.date_added)[:10] for v in page.versions)
                if not page.more:
                    break
                after = page.versions[-1].date_added
            else:
                capped = True
    return [(day, counts.get(day, 0)) for day in labels], capped


def _coordination(store: Store, principal: Principal, now: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    ws = Workspace(store, principal)
    waiting = [summaries.consultation(ws, v) for v in consultations.list_all(ws, now)
               if v.consultation.addressee == ws.me.identity_id
               and v.consultation.state in (State.OPEN, State.ACKNOWLEDGED)]
    waiting.sort(key=lambda c: min((d["due"] for d in c["deadlines"] if d["status"] == "pending"), default="~"))
    return waiting, [summaries.incident(ws, i) for i in incidents.list_all(ws)]


def dashboard(store: Store, principal: Principal, check_peers: bool = False) -> Dashboard:
    now = now_micros()
    found = warnings(store, principal, now)
    corroborated = [rw for rw in found if rw[1].corroborated_by][:SHOWN]
    shown = _shown(store, principal, found[:SHOWN] + [rw for rw in corroborated if rw not in found[:SHOWN]])
    by_id = {w.object_id: w for w in shown}
    try:
        waiting, open_incidents = _coordination(store, principal, now)
        why = ""
    except AccordError as exc:  # no access to the coordination collection
        waiting, open_incidents, why = [], [], exc.message
    chart, capped = ingest(store, principal, now)
    peers = None
    if principal.role is Role.ADMINISTRATOR:
        from accord.federation.peers import sync_status

        peers = [{**row, "last_ok_text": summaries.ts(row["last_ok"]) or "never"}
                 for row in sync_status(store, check_peers)]
    drafts = len(advisories.reviewable(store, principal, advisories.DRAFT)) if principal.role.can_write else None
    return Dashboard([by_id[w.object_id] for _, w in found[:SHOWN]],
                     [by_id[w.object_id] for _, w in corroborated], waiting, open_incidents, why, chart, capped,
                     peers, drafts, notices.unacknowledged_count(store, principal))
