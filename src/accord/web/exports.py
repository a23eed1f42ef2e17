"""Indicator exports for sensors: Zeek intel and Suricata files over HTTP, with the node's API keys.

    GET /exports/{root}/{collection}/zeek-intel.txt
    GET /exports/{root}/{collection}/suricata/{ipv4|ipv6|domains|urls|md5|sha256}.lst
    GET /exports/{root}/{collection}/suricata/reputation-categories.txt
    GET /exports/{root}/{collection}/suricata/reputation.txt

A sensor fetches them on a timer (``curl -H 'Authorization: Bearer ...'``); the content is what the
key's organisation may read, decided by the same sharing policy as TAXII.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from accord.domain.errors import NotFound
from accord.services import auth
from accord.services import exports as svc
from accord.store.repository import Store


def _context(request: Request) -> tuple[Store, str, str]:
    store: Store = request.app.state.store
    return store, request.path_params["root"], request.path_params["cid"]


async def zeek_intel(request: Request) -> PlainTextResponse:
    store, root_name, cid = _context(request)
    authorization = request.headers.get("authorization")

    def work() -> str:
        with store.read() as tx:
            principal = auth.authenticate_in(tx, authorization)
            root = tx.get_api_root(root_name)
        return svc.zeek_intel(store, principal, root, cid)

    return PlainTextResponse(await run_in_threadpool(work))


async def suricata(request: Request) -> PlainTextResponse:
    store, root_name, cid = _context(request)
    authorization = request.headers.get("authorization")
    name = request.path_params["name"]
    allowed = svc.SURICATA_DATASETS if request.url.path.endswith(".lst") else ("reputation-categories", "reputation")
    if name not in allowed:
        raise NotFound(f"no Suricata export {request.url.path.rsplit('/', 1)[-1]!r}")

    def work() -> str:
        with store.read() as tx:
            principal = auth.authenticate_in(tx, authorization)
            root = tx.get_api_root(root_name)
        if name in svc.SURICATA_DATASETS:
            return svc.suricata_dataset(store, principal, root, cid, name)
        categories, reputation = svc.suricata_iprep(store, principal, root, cid)
        return categories if name == "reputation-categories" else reputation

    return PlainTextResponse(await run_in_threadpool(work))


routes = [
    Route("/exports/{root}/{cid}/zeek-intel.txt", zeek_intel, methods=["GET"]),
    Route("/exports/{root}/{cid}/suricata/{name}.lst", suricata, methods=["GET"]),
    Route("/exports/{root}/{cid}/suricata/{name}.txt", suricata, methods=["GET"]),
]
