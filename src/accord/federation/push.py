"""The durable outbox: one push loop per peer node, driven by a cursor over the ordered object log.

``objects`` is append-only in ``date_added`` order (assigned under the node-wide write lock), so a
version is queued for every peer by the very transaction that stores it: a peer's outbox is "every
version after its acknowledged cursor that it is entitled to", and no extra row is written per
object or per peer. The loop wakes on every committed write of this process (and polls, for writes
made by other processes), POSTs envelopes to the peer's TAXII 2.1 collection (section 5.5) and moves
the cursor only after the peer's status resource answers. Errors back off exponentially; a restart
of either side resumes from the stored cursor, and the receiver dedupes by (id, version), so a
batch sent twice is harmless. What an acknowledged envelope carried that is not TLP:CLEAR is
recorded in the audit log ("federation.push") in the transaction that moves the cursor.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time

import httpx
import orjson
from starlette.concurrency import run_in_threadpool

from accord.federation.model import Peer, PeerKind
from accord.federation.outbound import Selection, record_egress, select_for_peer
from accord.federation.runtime import Runtime
from accord.stix.envelope import envelope
from accord.stix.timestamps import now_micros
from accord.store.audit import PUSH
from accord.store.repository import Store

TAXII = "application/taxii+json;version=2.1"
BATCH = 1000
IN_FLIGHT = 2  # envelopes posted to a peer at once while catching up
POLL_SECONDS = 1.0
MAX_BACKOFF = 5.0
SAVE_SECONDS = 5.0
RELOAD_SECONDS = 2.0
log = logging.getLogger("accord.federation")


async def _cancel(sent: collections.deque[tuple[Selection, asyncio.Task[str | None] | None]]) -> None:
    """Drop envelopes in flight (the peer may have stored them: it dedupes when they come again)."""
    for _, task in sent:
        if task is not None:
            task.cancel()
    for _, task in sent:
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    sent.clear()


def auth_headers(credential: str | None) -> dict[str, str]:
    headers = {"Accept": TAXII, "Content-Type": TAXII}
    if credential:
        if credential.startswith("acc_"):
            headers["Authorization"] = f"Bearer {credential}"
        else:  # user:password for plain TAXII servers (HTTP Basic, TAXII 2.1 section 8.2.2)
            import base64

            headers["Authorization"] = "Basic " + base64.b64encode(credential.encode()).decode()
    return headers


class Pushers:
    """Starts a push loop for every peer node with a URL and credential, and stops them all."""

    def __init__(self, store: Store, rt: Runtime) -> None:
        self.store, self.rt = store, rt
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=2.0))

    async def run(self) -> None:
        """Look for new (or newly credentialed) peers once a second. Not on every commit: each push
        loop wakes on commits itself, and a busy node commits hundreds of times a second."""
        while True:
            peers = await run_in_threadpool(self._peers)
            for peer in peers:
                if peer.id not in self.tasks or self.tasks[peer.id].done():
                    self.tasks[peer.id] = asyncio.create_task(self._loop(peer.id))
            await asyncio.sleep(1.0)

    async def stop(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        for task in self.tasks.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.client.aclose()

    def _peers(self) -> list[Peer]:
        with self.store.read() as tx:
            return [p for p in tx.list_peers() if p.kind is PeerKind.NODE and p.credential and p.url]

    def _peer(self, peer_id: int) -> tuple[Peer | None, bool]:
        """The peer, and whether its organisation is disabled (then nothing is selected for it and its
        cursor stays where it is, so it receives what it missed once enabled again)."""
        with self.store.read() as tx:
            peer = next((p for p in tx.list_peers() if p.id == peer_id), None)
            return peer, peer is not None and peer.org_id in tx.disabled_orgs()

    def _record(self, peer_id: int, **values: object) -> None:
        with self.store.write() as tx:
            tx.update_peer(peer_id, **values)

    def _acknowledged(self, peer: Peer, sel: Selection, values: dict[str, object]) -> None:
        """Move the cursor over a delivered envelope and record what it carried, both or neither."""
        with self.store.write() as tx:
            tx.update_peer(peer.id, **values)
            record_egress(tx, PUSH, peer, sel)

    async def _loop(self, peer_id: int) -> None:
        """Deliver to one peer for ever: select, post, acknowledge, in log order.

        While catching up, up to :data:`IN_FLIGHT` envelopes are posted at once, each selected while
        the previous one travels, so the peer parses and verifies one while it writes the other. The
        cursor moves only over envelopes the peer acknowledged *and* all those before them; on an
        error every later envelope is dropped and sent again (the peer dedupes by (id, version)).
        """
        wake = self.rt.waiter()
        backoff = 0.0
        sent: collections.deque[tuple[Selection, asyncio.Task[str | None] | None]] = collections.deque()
        cursor: int | None = None  # acknowledged; persisted after each delivery, and every few seconds
        selected = 0  # where the next selection starts: after the last envelope in flight
        saved_at = loaded_at = time.monotonic()
        peer, disabled = await run_in_threadpool(self._peer, peer_id)
        recorded_error = None if peer is None else peer.last_error
        try:
            while True:
                wake.clear()
                if time.monotonic() - loaded_at > RELOAD_SECONDS:  # agreement or credential changes
                    (peer, disabled), loaded_at = await run_in_threadpool(self._peer, peer_id), time.monotonic()
                if peer is None or not peer.credential:
                    return
                if disabled:
                    await _cancel(sent)
                    cursor = None
                    await asyncio.sleep(RELOAD_SECONDS)
                    continue
                if cursor is None or cursor < peer.push_cursor:
                    cursor = selected = peer.push_cursor
                while len(sent) < IN_FLIGHT:
                    sel = await run_in_threadpool(select_for_peer, self.store, self.rt, peer,
                                                  max(selected, cursor), BATCH)
                    if sel.last_scanned is None:
                        break
                    selected = sel.last_scanned
                    sent.append((sel, asyncio.create_task(self._post(peer, envelope(sel.bodies)))
                                 if sel.bodies else None))
                    if not sel.more:
                        break
                if not sent:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wake.wait(), POLL_SECONDS)
                    continue
                sel, posting = sent.popleft()
                error = None if posting is None else await posting
                if error is not None and error.startswith("retry:"):
                    await _cancel(sent)
                    selected = cursor
                    backoff = min(MAX_BACKOFF, max(0.1, backoff * 2))
                    recorded_error = error.removeprefix("retry: ")
                    await run_in_threadpool(self._record, peer.id, last_error=recorded_error)
                    await asyncio.sleep(backoff)
                    continue
                backoff = 0.0
                cursor = sel.last_scanned
                # versions this peer is not entitled to move the cursor too, but need no write each
                # time: after a restart they are scanned and skipped again
                if sel.bodies or error != recorded_error or time.monotonic() - saved_at > SAVE_SECONDS:
                    values: dict[str, object] = {"push_cursor": cursor, "last_error": error}
                    if sel.bodies:
                        values["last_ok"] = now_micros()
                    await run_in_threadpool(self._acknowledged, peer, sel, values)
                    saved_at, recorded_error = time.monotonic(), error
        finally:
            await _cancel(sent)
            self.rt.drop(wake)

    async def _post(self, peer: Peer, body: bytes) -> str | None:
        """None when every object was accepted; a refusal summary (kept, not retried); or "retry: ..."."""
        try:
            resp = await self.client.post(peer.objects_url, content=body, headers=auth_headers(peer.credential))
        except httpx.HTTPError as exc:
            return f"retry: {type(exc).__name__}: {exc}"
        if resp.status_code != 202:
            return f"retry: HTTP {resp.status_code}: {resp.text[:200]}"
        status = orjson.loads(resp.content)
        failures = status.get("failures") or []
        if failures:
            log.warning("peer %s refused %d objects: %s", peer.name, len(failures), failures[0])
            return f"{len(failures)} refused, e.g. {failures[0].get('id')}: {failures[0].get('message')}"
        return None
