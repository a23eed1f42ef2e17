"""Endpoints of privacy by design (docs/privacy.md): withdrawals between nodes, transparency of
recipients, and the privacy-preserving sighting lookup. Every one authenticates.

    POST /federation/withdrawals/                      a peer node delivers a signed withdrawal
    GET  /accord/transparency/sent[?org=NAME]          who received my organisation's objects
    GET  /accord/transparency/received                 what my organisation received, from whom
    GET  /accord/lookup/{root}/{cid}/table             the blinded sets of this epoch, per sector
    POST /accord/lookup/{root}/{cid}/evaluate          evaluate the PRF on blinded points (rate-limited)
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accord.domain.errors import InvalidInput, NotFound
from accord.federation import withdraw
from accord.federation.runtime import runtime_of
from accord.services import auth, lookup, transparency
from accord.stix.envelope import loads
from accord.store.repository import Store
from accord.web.errors import taxii_error

MAX_BODY = 64 * 1024


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise InvalidInput(f"a body of at most {MAX_BODY} bytes")
    return loads(raw)


def _json(value: Any) -> Response:
    return Response(orjson.dumps(value), media_type="application/json")


async def receive_withdrawal(request: Request) -> Response:
    store: Store = request.app.state.store
    rt = runtime_of(store)
    if rt is None:
        raise NotFound("this node does not federate")
    authorization = request.headers.get("authorization")
    principal = await run_in_threadpool(auth.authenticate, store, authorization)
    raw = await _json_body(request)
    return _json(await run_in_threadpool(withdraw.receive, store, rt, principal.org_id, raw))


def _report(kind: str) -> Any:
    async def report(request: Request) -> Response:
        """Transparency of recipients (accord.services.transparency), as JSON."""
        store: Store = request.app.state.store
        authorization = request.headers.get("authorization")
        org = request.query_params.get("org")

        def work() -> dict[str, Any]:
            principal = auth.authenticate(store, authorization)
            rows = getattr(transparency, kind)(store, principal, org)
            return {"receipts": rows, "count": len(rows)}

        return _json(await run_in_threadpool(work))

    return report


def _lookup_context(request: Request) -> tuple[Store, str | None, str, str]:
    return (request.app.state.store, request.headers.get("authorization"), request.path_params["root"],
            request.path_params["cid"])


async def lookup_table(request: Request) -> Response:
    """Step 0 of the sighting lookup: this epoch's PRF values per sector (accord.services.lookup)."""
    store, authorization, root_name, cid = _lookup_context(request)

    def work() -> dict[str, Any]:
        with store.read() as tx:
            principal = auth.authenticate_in(tx, authorization)
            root = tx.get_api_root(root_name)
        return lookup.table(store, principal, root, cid)

    return _json(await run_in_threadpool(work))


async def lookup_evaluate(request: Request) -> Response:
    """Step 2 of the sighting lookup: the PRF on blinded points, within the account's budget."""
    store, authorization, root_name, cid = _lookup_context(request)
    with store.read() as tx:
        principal = auth.authenticate_in(tx, authorization)
        root = tx.get_api_root(root_name)
    body = await _json_body(request)
    try:
        return _json(await run_in_threadpool(lookup.evaluate, store, principal, root, cid, body))
    except lookup.OverBudget as exc:
        return taxii_error(429, "Too Many Requests", exc.message, {"Retry-After": str(exc.retry_after)})


routes = [
    Route(withdraw.PATH, receive_withdrawal, methods=["POST"]),
    Route("/accord/transparency/sent", _report("sent"), methods=["GET"]),
    Route("/accord/transparency/received", _report("received"), methods=["GET"]),
    Route("/accord/lookup/{root}/{cid}/table", lookup_table, methods=["GET"]),
    Route("/accord/lookup/{root}/{cid}/evaluate", lookup_evaluate, methods=["POST"]),
]
