"""The OpenAPI 3.1 description of the node's HTTP API, served at ``/openapi.json``.

The description is data, ``openapi.json`` beside this module, read once per process and served as
it is. It is public on purpose, as ``/`` is: it says what each endpoint accepts and answers (TAXII
2.1 sections 3 to 5 for the TAXII part), never what the node holds, who its partners are or which
collections exist. ``tests/web/test_openapi.py`` fails when a route has no operation in it, or an
operation no route; ``tests/e2e/test_schemathesis.py`` checks a live node's answers against it.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from starlette.requests import Request
from starlette.responses import Response


@cache
def _document() -> bytes:
    return files("accord.web").joinpath("openapi.json").read_bytes()


async def document(_request: Request) -> Response:
    return Response(_document(), media_type="application/json")
