"""Early warning: subscriptions, corroboration, Server-Sent Events and signed webhooks.

Warnings are derived from the ordered object log (every version stored here, local or federated):
an indicator a subscriber may read and whose properties match its filter raises a warning; a
sighting (STIX 2.1 section 5.2, ``sighting_of_ref``) that makes two or more distinct
organisations' sightings of the same indicator raises a *corroborated* warning at priority "high".
Sightings travel between nodes as ordinary objects, so corroboration works across nodes.

Who receives what is decided by :func:`accord.domain.sharing.may_read` for the subscriber's
organisation, exactly as for a TAXII read. SSE streams are live (they start at the present; a client
that was away reads what it missed with TAXII ``added_after``); webhooks keep a durable cursor per
subscription and are retried with backoff. The
webhook body is signed with HMAC-SHA256 over the exact bytes sent (header ``X-Accord-Signature``).
A warning tells its id, type and name: what a webhook delivered and what a stream was handed goes
on the audit log's egress record (``accord.store.audit``, not for TLP:CLEAR), as for every read.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from starlette.concurrency import run_in_threadpool

from accord.coordination.stix import WARNING as COORDINATION_WARNING
from accord.domain.sharing import Reader, effective_tlp, may_read
from accord.domain.tlp import Tlp
from accord.federation.model import EarlyWarning, WarningFilter, filter_from_json, matches
from accord.federation.runtime import Runtime
from accord.stix.timestamps import key_to_display, micros_to_timestamp
from accord.store.audit import WARNING_STREAM, WARNING_WEBHOOK
from accord.store.federation import Outbound
from accord.store.repository import Store, Tx

SCAN = 1000
GRAPH_TYPES = ("identity", "relationship")  # what Graph.learn takes targets and sectors from


@dataclass
class Listener:
    org_id: int
    groups: frozenset[int]
    flt: WarningFilter
    account_id: int | None = None
    org_name: str = ""
    queue: asyncio.Queue[EarlyWarning] = field(default_factory=lambda: asyncio.Queue(maxsize=10_000))


@dataclass
class Graph:
    """What the stream has shown about targets: sectors of identities and what indicators indicate."""

    sectors: dict[str, frozenset[str]] = field(default_factory=dict)
    targets: dict[str, set[str]] = field(default_factory=dict)
    indicates: dict[str, set[str]] = field(default_factory=dict)

    def learn(self, obj: dict[str, Any]) -> None:
        if obj.get("type") == "identity" and isinstance(obj.get("sectors"), list):
            self.sectors[obj["id"]] = frozenset(str(s) for s in obj["sectors"])
        elif obj.get("type") == "relationship":
            kind, src, dst = obj.get("relationship_type"), obj.get("source_ref"), obj.get("target_ref")
            if isinstance(src, str) and isinstance(dst, str) and kind in ("targets", "indicates"):
                (self.targets if kind == "targets" else self.indicates).setdefault(src, set()).add(dst)

    def sectors_of(self, object_id: str) -> frozenset[str]:
        sources = {object_id} | self.indicates.get(object_id, set())
        out: set[str] = set()
        for s in sources:
            for target in self.targets.get(s, ()):
                out |= self.sectors.get(target, frozenset())
        return frozenset(out)


def derive(tx: Tx, rows: list[Outbound], graph: Graph) -> list[tuple[Outbound, EarlyWarning, int | None]]:
    """(row, warning, confidence) for every indicator and corroborating sighting among ``rows``."""
    out: list[tuple[Outbound, EarlyWarning, int | None]] = []
    objs = [(r, orjson.loads(r.body)) for r in rows if r.type in ("indicator", "sighting", "identity",
                                                                  "relationship", COORDINATION_WARNING)]
    for _, obj in objs:
        graph.learn(obj)
    targets = [o["sighting_of_ref"] for r, o in objs if r.type == "sighting" and isinstance(
        o.get("sighting_of_ref"), str)]
    sighted = tx.sighted_by([r.id for r, _ in objs if r.type == "indicator"] + targets)
    indicators = tx.latest_of(sorted({t for t in targets if len(sighted.get(t, [])) >= 2}))
    for r, obj in objs:
        if r.type == "indicator":
            orgs = tuple(sorted(sighted.get(r.id, [])))
            out.append((r, EarlyWarning(r.date_added, r.id, "indicator", "high" if len(orgs) >= 2 else "normal",
                                   orgs if len(orgs) >= 2 else (), str(obj.get("name", ""))), _confidence(obj)))
        elif r.type == COORDINATION_WARNING:
            # a missed consultation deadline or an attack on a protected sector (docs/coordination.md):
            # it goes to whoever may read it, whatever their indicator filter says
            out.append((r, EarlyWarning(r.date_added, r.id, COORDINATION_WARNING, str(obj.get("priority", "high")),
                                        (), str(obj.get("description", obj.get("reason", "")))), None))
        elif r.type == "sighting" and obj.get("sighting_of_ref") in indicators:
            # the warning is about the indicator: its policy, confidence and name apply
            target = indicators[obj["sighting_of_ref"]]
            body = orjson.loads(target.body)
            orgs = tuple(sorted(sighted[target.id]))
            out.append((target, EarlyWarning(r.date_added, target.id, "indicator", "high", orgs,
                                        str(body.get("name", ""))), _confidence(body)))
    return out


def _confidence(obj: dict[str, Any]) -> int | None:
    value = obj.get("confidence")
    return value if isinstance(value, int) else None


def visible(tx: Tx, org_id: int, groups: frozenset[int], flt: WarningFilter, row: Outbound, warning: EarlyWarning,
            confidence: int | None, graph: Graph) -> bool:
    access = tx.access_of(org_id).get(row.collection_id)
    readable = access is not None and access.can_read and may_read(Reader(org_id, groups), row.visibility)
    if warning.type == COORDINATION_WARNING:
        return readable
    return readable and matches(flt, warning.type, effective_tlp(row.visibility), confidence,
                                graph.sectors_of(warning.object_id), bool(warning.corroborated_by))


def sensitive(row: Outbound) -> list[str] | None:
    """[id, version] of the version a warning tells of, for the egress record; None for TLP:CLEAR
    (which, as for TAXII reads and pushes, is not recorded)."""
    if effective_tlp(row.visibility) is Tlp.CLEAR:
        return None
    return [row.id, key_to_display(row.version) if row.version else micros_to_timestamp(row.date_added)]


def warning_json(w: EarlyWarning) -> dict[str, Any]:
    return {"id": w.object_id, "type": w.type, "priority": w.priority, "name": w.name,
            "corroborated_by": list(w.corroborated_by), "date_added": w.date_added}


def hmac_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Warnings:
    """Feeds SSE listeners from the log, and delivers webhooks from their durable cursors."""

    def __init__(self, store: Store, rt: Runtime) -> None:
        self.store, self.rt = store, rt
        self.listeners: list[Listener] = []
        self.graph = Graph()
        self.client = httpx.AsyncClient(timeout=10)
        self.retry_at: dict[int, tuple[float, float]] = {}  # subscription id -> (when, backoff)
        self.cursor = _latest(store)  # live listeners start at the present
        self._joined = asyncio.Event()

    def listen(self, listener: Listener) -> None:
        """Add a live listener (call in the event loop); the loop wakes for it at once."""
        self.listeners.append(listener)
        self._joined.set()

    async def run(self) -> None:
        wake = self.rt.waiter()
        try:
            # sector filters need the targets and sectors stored before this start, too
            await run_in_threadpool(self._learn_history, self.cursor)
            while True:
                await self._dispatch()
                delivering = await self._webhooks()
                # With someone to warn, every commit wakes the loop. With nobody (no live listener,
                # no webhook), the loop only keeps learning targets and sectors, once a second: on a
                # busy node a pass per commit cost about 1 ms, a tenth of a 100-object POST. A
                # listener joining wakes it at once; it may then receive warnings from up to a
                # second before it joined, never miss one after.
                event = wake if self.listeners or delivering else self._joined
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), 1.0)
                wake.clear()
                self._joined.clear()
        finally:
            self.rt.drop(wake)

    async def stop(self) -> None:
        await self.client.aclose()

    def _scan(self, after: int, warn: bool) -> tuple[list[tuple[Outbound, EarlyWarning, int | None]], int]:
        with self.store.read() as tx:
            if warn:
                rows = tx.outbound(after, SCAN)
                return derive(tx, rows, self.graph), rows[-1].date_added if rows else after
            latest = tx.latest_date_added()
        # nobody is listening: keep learning targets and sectors from identities and relationships
        # only, without reading every other object written since
        return [], self._learn(after, max(after, latest))

    def _learn(self, after: int, until: int) -> int:
        """Learn from the identities and relationships added in (after, until], a window at a time;
        returns how far it read."""
        with self.store.read() as tx:
            rows = tx.outbound(after, SCAN, types=GRAPH_TYPES, until=until)
        for row in rows:
            self.graph.learn(orjson.loads(row.body))
        return rows[-1].date_added if len(rows) == SCAN else until

    def _learn_history(self, until: int) -> None:
        after = 0
        while after < until:
            after = self._learn(after, until)

    async def _dispatch(self) -> None:
        found, self.cursor = await run_in_threadpool(self._scan, self.cursor, bool(self.listeners))
        if not found or not self.listeners:
            return

        def route() -> list[tuple[Listener, EarlyWarning, Outbound]]:
            with self.store.read() as tx:
                return [(lst, w, row) for row, w, conf in found for lst in self.listeners
                        if visible(tx, lst.org_id, lst.groups, lst.flt, row, w, conf, self.graph)]

        handed: dict[int, tuple[Listener, list[list[str]]]] = {}
        for listener, warning, row in await run_in_threadpool(route):
            try:
                listener.queue.put_nowait(warning)
            except asyncio.QueueFull:
                continue  # dropped, so not sent: a client that fell this far behind reads TAXII
            if (entry := sensitive(row)) is not None:
                handed.setdefault(id(listener), (listener, []))[1].append(entry)
        if handed:
            await run_in_threadpool(self._record_streams, list(handed.values()))

    def _record_streams(self, handed: list[tuple[Listener, list[list[str]]]]) -> None:
        with self.store.write() as tx:
            for listener, objects in handed:
                tx.audit(listener.account_id, listener.org_id, WARNING_STREAM,
                         {"to": f"stream ({listener.org_name})", "objects": objects})

    def _webhook_batch(self, sub: Any) -> tuple[bytes, int, list[list[str]]] | None:
        """The next body for ``sub`` (empty when nothing in the window is for it), the cursor after
        it, and what of it the egress record keeps."""
        with self.store.read() as tx:
            rows = tx.outbound(sub.webhook_cursor, SCAN)
            if not rows:
                return None
            groups = tx.groups_of(sub.org_id)
            flt = filter_from_json(orjson.loads(sub.filter))
            chosen = [(row, w) for row, w, conf in derive(tx, rows, self.graph)
                      if visible(tx, sub.org_id, groups, flt, row, w, conf, self.graph)]
        sent = [warning_json(w) for _, w in chosen]
        body = orjson.dumps({"subscription": sub.name, "warnings": sent}) if sent else b""
        return body, rows[-1].date_added, [e for row, _ in chosen if (e := sensitive(row)) is not None]

    async def _webhooks(self) -> bool:
        """Deliver pending webhook batches; whether any subscription has a webhook."""
        subs = await run_in_threadpool(self._subscriptions)
        for sub in subs:
            when, backoff = self.retry_at.get(sub.id, (0.0, 0.0))
            if time.monotonic() < when:
                continue
            batch = await run_in_threadpool(self._webhook_batch, sub)
            if batch is None:
                continue
            body, cursor, delivered = batch
            error = None
            if body:
                try:
                    resp = await self.client.post(sub.webhook_url, content=body, headers={
                        "Content-Type": "application/json",
                        "X-Accord-Signature": hmac_signature(sub.webhook_secret, body)})
                    if resp.status_code >= 300:
                        error = f"HTTP {resp.status_code}"
                except httpx.HTTPError as exc:
                    error = f"{type(exc).__name__}: {exc}"
            if error is not None:
                backoff = min(30.0, max(0.5, backoff * 2))
                self.retry_at[sub.id] = (time.monotonic() + backoff, backoff)
                await run_in_threadpool(self._update_sub, sub.id, {"last_error": error})
                continue
            self.retry_at.pop(sub.id, None)
            await run_in_threadpool(self._delivered, sub, cursor, delivered)
        return bool(subs)

    def _subscriptions(self) -> list[Any]:
        with self.store.read() as tx:
            return [s for s in tx.list_subscriptions() if s.webhook_url]

    def _update_sub(self, sub_id: int, values: dict[str, Any]) -> None:
        with self.store.write() as tx:
            tx.update_subscription(sub_id, **values)

    def _delivered(self, sub: Any, cursor: int, objects: list[list[str]]) -> None:
        """The cursor moves and the egress record is written in one transaction: a crash between
        the two could neither lose the record nor record twice what is delivered again."""
        with self.store.write() as tx:
            tx.update_subscription(sub.id, webhook_cursor=cursor, last_error=None)
            if objects:
                org = tx.get_org(sub.org_id).name
                tx.audit(None, sub.org_id, WARNING_WEBHOOK, {"to": f"webhook {sub.name} ({org})", "objects": objects})


def _latest(store: Store) -> int:
    with store.read() as tx:
        return tx.latest_date_added()
