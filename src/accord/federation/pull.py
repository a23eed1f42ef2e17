"""Pull: catch up from a peer node's signed view, or read any TAXII 2.1 server as a feed source.

A feed is paged with ``added_after`` (TAXII 2.1 section 3.4) and the ``X-TAXII-Date-Added-Last``
header; a peer node's signed view with its integer ``next`` cursor. Either way the objects enter
through the ordinary Add Objects use case as the peer's account, so the same validation, signature
checks, dedupe by (id, version) and audit apply as for a push. Cursors move only after the objects
are stored, so an interrupted pull repeats at most one page.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from accord.domain.errors import InvalidInput, NotFound
from accord.domain.model import Principal
from accord.federation.model import Peer, PeerKind
from accord.federation.push import auth_headers
from accord.services import admin
from accord.stix.timestamps import timestamp_key
from accord.store.repository import Store

PAGE = 1000


def peer_account(name: str) -> str:
    return f"peer-{name}"


def _peer(store: Store, name: str) -> tuple[Peer, Principal, str]:
    with store.read() as tx:
        peer = tx.find_peer(name)
        if peer is None:
            raise NotFound(f"no peer {name!r}")
        if not peer.collections:
            raise InvalidInput(f"peer {name!r} has no local collection to pull into")
        target = next(c.uuid for c in tx.list_collections() if c.id == min(peer.collections))
    return peer, admin.principal_for(store, peer_account(name)), target


def _store_page(store: Store, principal: Principal, target: str, objects: list[Any]) -> tuple[int, int]:
    if not objects:
        return 0, 0
    stored, failures = admin.load_bundle(store, principal, target, objects, batch=PAGE)
    return stored, len(failures)


def pull(store: Store, name: str, client: httpx.Client | None = None,
         wanted: set[tuple[str, str]] | None = None) -> tuple[int, int]:
    """Fetch everything new from the peer; returns (objects received, refused).

    With ``wanted`` (repair), read from the beginning and keep only those (id, version) pairs.
    """
    peer, principal, target = _peer(store, name)
    if peer.kind is PeerKind.MISP:
        from accord.interop.misp import peer as misp_peer

        return misp_peer.pull(store, peer, principal, target)
    own = client or httpx.Client(timeout=60)
    received = refused = 0
    try:
        if peer.kind is PeerKind.NODE:
            cursor = "0" if wanted is not None else (peer.pull_cursor or "0")
            while True:
                resp = own.get(peer.signed_objects_url, params={"next": cursor, "limit": PAGE},
                               headers=auth_headers(peer.credential))
                resp.raise_for_status()
                page = orjson.loads(resp.content)
                objects = page.get("objects", [])
                if wanted is not None:
                    objects = [o for o in objects if (o.get("id"), _key(o)) in wanted]
                stored, bad = _store_page(store, principal, target, objects)
                received, refused = received + len(objects), refused + bad
                if not page.get("more"):
                    break
                cursor = str(page["next"])
                if wanted is None:
                    _set_cursor(store, peer.id, cursor)
            if wanted is None and cursor != "0":
                _set_cursor(store, peer.id, cursor)
            return received, refused
        params: dict[str, Any] = {"limit": PAGE}
        if peer.pull_cursor:
            params["added_after"] = peer.pull_cursor
        last = peer.pull_cursor
        while True:  # follow "more"/"next" within one added_after window, then move the window
            resp = own.get(peer.objects_url, params=params, headers=auth_headers(peer.credential))
            resp.raise_for_status()
            page = orjson.loads(resp.content) if resp.content else {}
            objects = page.get("objects", [])
            stored, bad = _store_page(store, principal, target, objects)
            received, refused = received + len(objects), refused + bad
            last = max(last, resp.headers.get("X-TAXII-Date-Added-Last") or "")
            if not (page.get("more") and page.get("next")):
                break
            params["next"] = page["next"]
        if last and last != peer.pull_cursor:
            _set_cursor(store, peer.id, last)
        return received, refused
    except httpx.HTTPError as exc:
        with store.write() as tx:
            tx.update_peer(peer.id, last_error=f"pull: {type(exc).__name__}: {exc}")
        raise
    finally:
        if client is None:
            own.close()


def _key(obj: dict[str, Any]) -> str:
    value = obj.get("modified") or obj.get("created")
    return timestamp_key(value) if isinstance(value, str) else ""


def _set_cursor(store: Store, peer_id: int, cursor: str) -> None:
    with store.write() as tx:
        tx.update_peer(peer_id, pull_cursor=cursor)
