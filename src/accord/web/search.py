"""``GET /accord/search?q=...``: the console's search box as JSON, for scripts and SIEMs.

The same :func:`accord.services.search.search` the ``/search`` page calls, authenticated by an API
key: what one key finds here is what the same account finds in the console, and nothing a TAXII read
by that key would hide. A query the box cannot take is a 400 with the reason (a TAXII error body).
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accord.domain.errors import InvalidInput
from accord.services import auth
from accord.services import search as svc
from accord.store.repository import Store


async def search(request: Request) -> Response:
    store: Store = request.app.state.store
    authorization = request.headers.get("authorization")
    asked = request.query_params.getlist("q")
    limit_text = request.query_params.get("limit", str(svc.LIMIT))
    offset_text = request.query_params.get("offset", "0")

    def work() -> dict[str, Any]:
        principal = auth.authenticate(store, authorization)
        if len(asked) != 1:
            raise InvalidInput("give the search as one q parameter")
        whole = len(limit_text) <= 4 and limit_text.isascii() and limit_text.isdigit()
        if not whole or not 1 <= int(limit_text) <= svc.LIMIT:
            raise InvalidInput(f"limit is a whole number from 1 to {svc.LIMIT}")
        whole = len(offset_text) <= 5 and offset_text.isascii() and offset_text.isdigit()
        if not whole or int(offset_text) > svc.MAX_OFFSET:
            raise InvalidInput(f"offset is a whole number from 0 to {svc.MAX_OFFSET}")
        return svc.search(store, principal, asked[0], int(limit_text), int(offset_text)).to_json()

    return Response(orjson.dumps(await run_in_threadpool(work)), media_type="application/json")


routes = [Route("/accord/search", search, methods=["GET"])]
