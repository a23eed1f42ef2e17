"""The object page ``/objects/<id>`` (issue 15): versions with their differences, markings,
provenance, relationships as a picture, sightings and, for its owner, who received it.

Read through :func:`accord.services.dossier.dossier`, so through the TAXII read path: an object the
signed-in key may not read gets the very page an unknown id gets (404, same body).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from accord.domain.errors import NotFound
from accord.services.dossier import dossier
from accord.web.ui import svg
from accord.web.ui.frame import Page, current_principal, render, store_of


def not_found(request: Request) -> Response:
    """The one answer for an object that is hidden, unknown or not an id at all."""
    return render(request, "error.html", status_code=404, title="No such object",
                  message="There is no object with this id that you may read.")


async def object_page(request: Request) -> Response:
    principal = await current_principal(request)
    object_id = request.path_params["object_id"]
    try:
        d = await run_in_threadpool(dossier, store_of(request), principal, object_id)
    except NotFound:
        return not_found(request)
    picture = svg.graph(d.type, d.label, [(n.type, n.label, n.relation, n.outgoing) for n in d.neighbours])
    return render(request, "object.html", title=f"{d.type} {d.label}", d=d, graph=picture)


routes = [Page("/objects/{object_id:str}", object_page, methods=["GET"])]
