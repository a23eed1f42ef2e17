"""Endpoints between nodes: the node's identity and keys, its signed view of a collection, digests,
and signed checkpoints of its audit log.

The signed view is TAXII 2.1 Get Objects (section 5.4) in shape: the same envelope (section 3.7),
paging with ``limit`` and ``next`` (here the date_added cursor), but only for peer nodes, filtered by
their sharing agreement, and with the origin signature extension on every object. The plain TAXII
API keeps returning bodies exactly as posted. A page served is recorded in the audit log
("federation.pull") as every TAXII read is.
"""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accord.domain.errors import NotAllowed, NotFound
from accord.domain.model import Principal
from accord.federation import checkpoint as checkpoints
from accord.federation.model import Peer, PeerKind
from accord.federation.outbound import entitled_after, entitled_digest, record_egress, select_for_peer
from accord.federation.runtime import Runtime, runtime_of
from accord.federation.signing import EXTENSION_DEFINITION
from accord.services import auth
from accord.services import objects as svc
from accord.stix.envelope import envelope
from accord.store.audit import PULL
from accord.store.repository import Store
from accord.web.media import TAXII_MEDIA


def _rt(request: Request) -> tuple[Store, Runtime]:
    store: Store = request.app.state.store
    rt = runtime_of(store)
    if rt is None:
        raise NotFound("this node does not federate")
    return store, rt


def identity_document(store: Store, rt: Runtime) -> dict[str, Any]:
    """The node's STIX identity, every public key it ever signed with, and the extension definition."""
    with store.read() as tx:
        org = tx.get_org(rt.host_org)
        keys = [(k, v) for k, v in tx.node_keys().items() if v[0] == rt.origin]
    identity: dict[str, Any] = {
        "type": "identity", "spec_version": "2.1", "id": org.identity_id, "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z", "name": org.name, "identity_class": "organization"}
    if org.sectors:
        identity["sectors"] = list(org.sectors)
    return {
        "node_id": rt.origin, "identity": identity, "current_key": rt.signer.public.key_id,
        "fingerprint": rt.signer.public.fingerprint,
        "keys": [{"key_id": k, "fingerprint": pub.fingerprint, "ed25519": base64.b64encode(pub.ed25519).decode(),
                  "ml_dsa_65": base64.b64encode(pub.ml_dsa_65).decode()} for k, (_, pub) in keys],
        "extension_definition": EXTENSION_DEFINITION,
    }


async def identity(request: Request) -> Response:
    """Public on purpose: public keys and the extension definition are what peers must confirm."""
    store, rt = _rt(request)
    return Response(orjson.dumps(await run_in_threadpool(identity_document, store, rt)), media_type="application/json")


async def extension_definition(_request: Request) -> Response:
    return Response(orjson.dumps(EXTENSION_DEFINITION), media_type=TAXII_MEDIA)


def _peer_for(store: Store, authorization: str | None, root_name: str, cid: str) -> tuple[Principal, Peer]:
    """The requesting account and peer node, its agreement narrowed to the one collection asked for."""
    with store.read() as tx:
        principal = auth.authenticate_in(tx, authorization)
        peer = tx.peer_of_org(principal.org_id)
        if peer is None or peer.kind is not PeerKind.NODE:
            raise NotAllowed("only peer nodes read the signed view")
        collection, access = svc.resolve_collection(tx, principal, tx.get_api_root(root_name), cid)
    if not access.can_read:
        raise NotAllowed(f"your organisation may not read collection {cid!r}")
    return principal, dataclasses.replace(peer, collections=peer.collections & {collection.id})


async def signed_objects(request: Request) -> Response:
    store, rt = _rt(request)
    q = request.query_params
    after = svc.parse_next(q.get("next")) or 0
    limit = svc.parse_limit(q.get("limit"))
    authorization = request.headers.get("authorization")
    root, cid = request.path_params["root"], request.path_params["cid"]

    def work() -> bytes:
        # As on the TAXII objects endpoint, nothing the peer may not receive shows: windows without
        # an entitled version are passed over here rather than answered as empty pages, ``more`` is
        # true only when an entitled version follows, and ``next`` names the last version returned.
        principal, peer = _peer_for(store, authorization, root, cid)
        cursor = after
        while True:
            sel = select_for_peer(store, rt, peer, cursor, min(limit, 1000), scan=5000)
            if sel.bodies or sel.last_scanned is None:
                break
            cursor = sel.last_scanned
        if not sel.bodies:
            return b"{}"
        more = sel.cut or (sel.last_scanned is not None and entitled_after(store, rt, peer, sel.last_scanned))
        if sel.sensitive:
            with store.write(audit_only=True) as tx:
                record_egress(tx, PULL, peer, sel, principal.account_id)
        return envelope(sel.bodies, more, str(sel.last_kept) if more else None)

    return Response(await run_in_threadpool(work), media_type=TAXII_MEDIA)


async def digest(request: Request) -> Response:
    """Count and SHA-256 of the (id, version) set the requesting peer is entitled to, and the set."""
    store, rt = _rt(request)
    authorization = request.headers.get("authorization")
    root, cid = request.path_params["root"], request.path_params["cid"]

    def work() -> dict[str, Any]:
        _, peer = _peer_for(store, authorization, root, cid)
        count, value, pairs = entitled_digest(store, rt, peer)
        return {"count": count, "digest": value, "versions": pairs}

    return Response(orjson.dumps(await run_in_threadpool(work)), media_type="application/json")


async def audit_checkpoint(request: Request) -> Response:
    """The audit log's head (seq, hash), signed now: any account may keep it off the node, since it
    reveals only a count and a hash (accord.federation.checkpoint)."""
    store, rt = _rt(request)
    authorization = request.headers.get("authorization")

    def work() -> bytes:
        auth.authenticate(store, authorization)
        return orjson.dumps(checkpoints.sign(store, rt.signer).to_json())

    return Response(await run_in_threadpool(work), media_type="application/json")


routes = [
    Route("/federation/identity/", identity, methods=["GET"]),
    Route("/federation/extension-definition/", extension_definition, methods=["GET"]),
    Route("/federation/taxii2/{root}/collections/{cid}/objects/", signed_objects, methods=["GET"]),
    Route("/federation/taxii2/{root}/collections/{cid}/digest/", digest, methods=["GET"]),
    Route("/accord/audit/checkpoint", audit_checkpoint, methods=["GET"]),
]
