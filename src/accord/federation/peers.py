"""Administering federation: peers and their agreements, node keys, sync status, subscriptions.

``accord peer add`` fetches the peer's identity document (public keys and their fingerprint) from
its URL, and registers the keys only when the fingerprint the administrator confirms (exchanged out
of band, by telephone or signed mail) matches. It then creates the organisation that stands for the
peer, an account for the peer's node with an API key to hand to the peer's administrator, and
read/write access to the agreed collections.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from accord.domain.errors import Conflict, InvalidInput, NotFound
from accord.domain.model import OrgKind, Principal
from accord.domain.sharing import Agreement, Role
from accord.domain.tlp import Tlp
from accord.federation.model import Peer, PeerKind, WarningFilter, filter_to_json
from accord.federation.outbound import digest
from accord.federation.pull import peer_account, pull
from accord.federation.push import auth_headers
from accord.federation.signing import PublicKeys, key_id_of, load_or_create
from accord.services import admin
from accord.stix.timestamps import now_micros
from accord.store.repository import Store


@dataclass(frozen=True, slots=True)
class RemoteIdentity:
    node_id: str
    name: str
    keys: list[PublicKeys]
    fingerprint: str  # of the peer's current key


def fetch_identity(url: str, client: httpx.Client | None = None) -> RemoteIdentity:
    own = client or httpx.Client(timeout=10)
    try:
        resp = own.get(url.rstrip("/") + "/federation/identity/")
        resp.raise_for_status()
        doc = orjson.loads(resp.content)
    except (httpx.HTTPError, orjson.JSONDecodeError) as exc:
        raise InvalidInput(f"could not read the identity of {url}: {exc}") from None
    finally:
        if client is None:
            own.close()
    keys = [PublicKeys(k["key_id"], base64.b64decode(k["ed25519"]), base64.b64decode(k["ml_dsa_65"]))
            for k in doc["keys"]]
    for k in keys:  # the key ids are derived from the keys: a mismatch is a forged document
        if key_id_of(k.ed25519, k.ml_dsa_65) != k.key_id:
            raise InvalidInput(f"{url}: key {k.key_id} does not match its public keys")
    current = next(k for k in keys if k.key_id == doc["current_key"])
    return RemoteIdentity(doc["node_id"], doc["identity"]["name"], keys, current.fingerprint)


def _collections(store: Store, names: list[str]) -> list[int]:
    with store.read() as tx:
        return [tx.find_collection(None, n).id for n in names]


def add_peer(store: Store, name: str, url: str, kind: PeerKind, fingerprint: str | None,
             collections: list[str], levels: frozenset[Tlp], groups: list[str], remote_collection: str,
             api_root: str, credential: str | None, country: str = "ZZ") -> tuple[Peer, str]:
    """Register a peer; returns it and the API key its node uses here (shown once)."""
    node_id = None
    remote: RemoteIdentity | None = None
    if kind is PeerKind.NODE:
        remote = fetch_identity(url)
        if fingerprint is None or fingerprint.replace(":", "").lower() != remote.fingerprint.replace(":", ""):
            raise InvalidInput(f"fingerprint mismatch: {url} shows {remote.fingerprint}; confirm it with the "
                               f"peer's administrator and pass it with --fingerprint")
        node_id = remote.node_id
    admin.add_org(store, name, OrgKind.GOVERNMENT_CERT, country, ())
    _, key = admin.add_account(store, peer_account(name), name, Role.CONTRIBUTOR)
    col_ids = _collections(store, collections)
    for c in collections:
        admin.grant(store, c, name, read=True, write=True)
    with store.write() as tx:
        if tx.find_peer(name) is not None:
            raise Conflict(f"peer {name!r} exists already")
        group_ids = frozenset(tx.get_group(g).id for g in groups)
        org = tx.get_org(name)
        if remote is not None:
            for k in remote.keys:
                tx.add_node_keys(remote.node_id, k)
        peer_id = tx.add_peer(name, kind, org.id, node_id, url, api_root, remote_collection, col_ids,
                              Agreement(levels, group_ids))
        if credential:
            tx.update_peer(peer_id, credential=credential)
        tx.audit(None, None, "federation.peer_add", {"peer": name, "url": url, "node": node_id,
                                                     "fingerprint": remote.fingerprint if remote else None})
        peer = next(p for p in tx.list_peers() if p.id == peer_id)
    return peer, key


def set_peer(store: Store, name: str, credential: str | None = None, levels: frozenset[Tlp] | None = None,
             groups: list[str] | None = None, collections: list[str] | None = None,
             actor: Principal | None = None) -> Peer:
    with store.write() as tx:
        peer = tx.find_peer(name)
        if peer is None:
            raise NotFound(f"no peer {name!r}")
        values: dict[str, Any] = {}
        if credential is not None:
            values["credential"] = credential
        if levels is not None or groups is not None:
            values["agreement"] = Agreement(
                peer.agreement.levels if levels is None else levels,
                peer.agreement.groups if groups is None else frozenset(tx.get_group(g).id for g in groups))
        if collections is not None:
            values["collections"] = [tx.find_collection(None, c).id for c in collections]
        tx.update_peer(peer.id, **values)
        tx.audit(*admin.audit_actor(actor), "federation.peer_set", {"peer": name, "changed": sorted(values)})
        found = tx.find_peer(name)
        assert found is not None
        return found


def refresh_keys(store: Store, name: str, fingerprint: str) -> list[str]:
    """After the peer rotated its keys: add its new keys (old ones stay, so old objects verify)."""
    with store.read() as tx:
        peer = tx.find_peer(name)
    if peer is None or peer.node_id is None:
        raise NotFound(f"no peer node {name!r}")
    remote = fetch_identity(peer.url)
    if remote.node_id != peer.node_id:
        raise InvalidInput(f"{peer.url} is now node {remote.node_id}, not {peer.node_id}")
    if fingerprint.replace(":", "").lower() != remote.fingerprint.replace(":", ""):
        raise InvalidInput(f"fingerprint mismatch: {peer.url} shows {remote.fingerprint}")
    with store.write() as tx:
        added = [k.key_id for k in remote.keys if tx.add_node_keys(remote.node_id, k)]
        tx.audit(None, None, "federation.peer_keys", {"peer": name, "added": added})
    return added


def rotate_keys(store: Store, data_dir: Path) -> PublicKeys:
    with store.read() as tx:
        origin = tx.get_org(int(tx.get_setting("host_org") or 0)).identity_id
    signer = load_or_create(data_dir, origin, rotate=True)
    with store.write() as tx:
        tx.add_node_keys(origin, signer.public)
        tx.audit(None, None, "federation.rotate_keys", {"key": signer.public.key_id})
    return signer.public


def node_identity(store: Store, data_dir: Path) -> dict[str, Any]:
    with store.read() as tx:
        org = tx.get_org(int(tx.get_setting("host_org") or 0))
    signer = load_or_create(data_dir, org.identity_id)
    with store.write() as tx:
        tx.add_node_keys(org.identity_id, signer.public)
    return {"node_id": org.identity_id, "name": org.name, "key_id": signer.public.key_id,
            "fingerprint": signer.public.fingerprint}


def sync_status(store: Store, check: bool) -> list[dict[str, Any]]:
    """Per peer: push lag and queue depth, last error; with ``check``, whether both sides agree.

    Agreement is checked from the receiving side: the peer computes the (id, version) set we are
    entitled to and its SHA-256; we hash the part of that set we hold. Equal digests prove we hold
    everything the peer may send us.
    """
    now = now_micros()
    with store.read() as tx:
        peers = tx.list_peers()
        rows = []
        for p in peers:
            oldest = tx.oldest_after(p.push_cursor) if p.kind is PeerKind.NODE else None
            rows.append({"peer": p.name, "kind": p.kind.value, "url": p.url,
                         "queue": tx.pending_count(p.push_cursor) if p.kind is PeerKind.NODE else 0,
                         "lag_seconds": round((now - oldest) / 1e6, 3) if oldest else 0.0,
                         "last_ok": p.last_ok, "last_error": p.last_error, "agree": None, "missing": None})
        held = tx.held_versions() if check else set()
    for p, row in zip(peers, rows, strict=True):
        if check and p.kind is PeerKind.NODE and p.credential:
            try:
                theirs = fetch_digest(p)
            except httpx.HTTPError as exc:
                row["last_error"] = f"digest: {exc}"
                continue
            pairs = [(i, v) for i, v in theirs["versions"]]
            have = [x for x in pairs if x in held]
            row["agree"] = digest(have) == theirs["digest"]
            row["missing"] = len(pairs) - len(have)
    return rows


def fetch_digest(peer: Peer) -> dict[str, Any]:
    url = (f"{peer.url.rstrip('/')}/federation/taxii2/{peer.api_root}/collections/"
           f"{peer.remote_collection}/digest/")
    resp = httpx.get(url, headers=auth_headers(peer.credential), timeout=120)
    resp.raise_for_status()
    result: dict[str, Any] = orjson.loads(resp.content)
    return result


def repair(store: Store, name: str) -> tuple[int, int]:
    """Pull from the peer exactly the entitled versions we miss; returns (missing before, fetched)."""
    with store.read() as tx:
        peer = tx.find_peer(name)
        held = tx.held_versions()
    if peer is None:
        raise NotFound(f"no peer {name!r}")
    theirs = fetch_digest(peer)
    missing = {(i, v) for i, v in theirs["versions"]} - held
    if not missing:
        return 0, 0
    received, _ = pull(store, name, wanted=missing)
    return len(missing), received


def subscribe(store: Store, name: str, org_name: str, flt: WarningFilter, webhook: str | None) -> str | None:
    """A stored subscription; with a webhook, returns the HMAC secret to give its receiver."""
    secret = secrets.token_urlsafe(32) if webhook else None
    with store.write() as tx:
        org = tx.get_org(org_name)
        tx.add_subscription(org.id, name, orjson.dumps(filter_to_json(flt)).decode(), webhook, secret,
                            tx.latest_date_added())
        tx.audit(None, None, "federation.subscribe", {"name": name, "org": org_name, "webhook": webhook})
    return secret
