"""A MISP feed as a peer (``accord peer add NAME URL --misp-feed``): pulled incrementally.

The way MISP pulls a feed: read ``manifest.json``, fetch only the events whose ``timestamp`` is newer
than the one loaded last time. Before that, the manifest is asked for with ``If-None-Match`` and the
ETag of the last pull, so an unchanged feed costs one 304. The state lives in the peer's
``pull_cursor`` (the peers table, no table of its own): ``{"etag": ..., "events": {uuid: timestamp}}``.

An event that fails (unreachable, broken, refused objects) keeps its old timestamp, so the next pull
tries it again, and the ETag is not kept, so the next pull reads the manifest again. Every failure is
the peer's ``last_error``, which ``accord sync status`` shows; a pull with none sets ``last_ok``.
The objects enter as the peer's account, through the same path as ``accord load --misp-feed``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from accord.interop.misp import feed as feeds
from accord.interop.misp import load

if TYPE_CHECKING:
    from accord.domain.model import Principal
    from accord.federation.model import Peer
    from accord.store.repository import Store

MAX_ERROR = 2000  # characters of last_error


def read_cursor(text: str) -> tuple[str | None, dict[str, int]]:
    """(ETag, event uuid -> timestamp) of a MISP peer's pull cursor; empty when it has none yet."""
    if not text:
        return None, {}
    try:
        data: Any = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None, {}
    if not isinstance(data, dict):
        return None, {}
    events: dict[str, Any] = data["events"] if isinstance(data.get("events"), dict) else {}
    etag = data.get("etag") if isinstance(data.get("etag"), str) else None
    return etag, {str(k): int(v) for k, v in events.items() if isinstance(v, int)}


def headers_for(credential: str | None) -> dict[str, str]:
    """The header the feed wants: an Accord key as Bearer; ``Name: value`` as that header (MISP's
    "custom headers" of a feed); anything else as ``Authorization: <it>``, as MISP sends its keys."""
    if not credential:
        return {}
    if credential.startswith("acc_"):
        return {"Authorization": f"Bearer {credential}"}
    name, sep, value = credential.partition(": ")
    if sep and name and all(c.isalnum() or c == "-" for c in name):
        return {name: value.strip()}
    return {"Authorization": credential}


def pull(store: Store, peer: Peer, principal: Principal, target: str) -> tuple[int, int]:
    """One incremental pull; returns (events loaded, problems). Failures are the peer's last_error."""
    from accord.stix.timestamps import now_micros

    etag, seen = read_cursor(peer.pull_cursor)
    try:
        source = feeds.FeedSource(peer.url, headers_for(peer.credential))
    except feeds.FeedError as exc:
        _record(store, peer.id, error=f"misp feed: {exc}")
        raise
    try:
        done = load.load_feed(store, principal, target, peer.url, since=seen, source=source, etag=etag)
    except feeds.FeedError as exc:
        _record(store, peer.id, error=f"misp feed: {exc}")
        raise
    finally:
        source.close()
    if done.unchanged:
        _record(store, peer.id, ok=now_micros())
        return 0, 0
    events = {u: ts for u, ts in seen.items() if u in done.manifest}  # an event the feed dropped is forgotten
    events.update(done.timestamps)
    cursor = {"etag": None if done.problems else done.etag, "events": events}
    error = None
    if done.problems:
        error = f"misp feed: {len(done.problems)} problem(s); first: {done.problems[0]}"[:MAX_ERROR]
    _record(store, peer.id, cursor=orjson.dumps(cursor).decode(), error=error,
            ok=None if done.problems else now_micros())
    return done.events, len(done.problems)


def _record(store: Store, peer_id: int, *, cursor: str | None = None, error: str | None = None,
            ok: int | None = None) -> None:
    values: dict[str, Any] = {"last_error": error}
    if cursor is not None:
        values["pull_cursor"] = cursor
    if ok is not None:
        values["last_ok"] = ok
    with store.write() as tx:
        tx.update_peer(peer_id, **values)
