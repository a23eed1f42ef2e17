"""The console's home: ``/`` answers browsers with the dashboard and other clients with JSON."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from accord import __version__
from accord.services.dashboard import dashboard
from accord.web.ui import svg
from accord.web.ui.frame import current_principal, render, store_of


def wants_html(request: Request) -> bool:
    """A browser names text/html in Accept; curl, TAXII clients and scripts send */* or JSON."""
    return "text/html" in request.headers.get("accept", "")


async def home(request: Request) -> Response:
    """Deliberately public as JSON: what this is and where TAXII lives; nothing about the content."""
    if not wants_html(request):
        return JSONResponse({"service": "accord", "version": __version__, "taxii_discovery": "/taxii2/"})
    principal = await current_principal(request)
    check = request.query_params.get("check") == "1"
    d = await run_in_threadpool(dashboard, store_of(request), principal, check)
    chart = svg.bars([(day[5:], n) for day, n in d.ingest])
    return render(request, "home.html", title="Dashboard", account=principal.account_name, d=d, chart=chart,
                  ingested=sum(n for _, n in d.ingest), checked=check)


routes = [Route("/", home, methods=["GET"])]
