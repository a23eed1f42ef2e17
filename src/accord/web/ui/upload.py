"""Upload a STIX bundle or an IOC list from the console, with its progress (issue 15).

With JavaScript the page sends the file in pieces below the node's body limit
(``/upload/start``, ``/upload/<job>/piece`` for each, ``/upload/<job>/finish``) and then polls
``/upload/<job>/status`` (JSON) for a progress bar. Without it, the form posts the whole file (up
to the body limit) and ``/upload/<job>`` shows the progress, reloading itself until the end. The
work is :mod:`accord.services.uploads`; the pieces' requests carry the session's CSRF token in a
header, the form in a field.
"""

from __future__ import annotations

import hmac

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from accord.domain.errors import InvalidInput, NotFound
from accord.domain.model import Principal
from accord.domain.tlp import Tlp
from accord.services.uploads import KINDS, MAX_SIZE, Job, Uploads
from accord.web.ui.frame import FormRefused, Page, checked_form, current_principal, field, render, store_of
from accord.web.ui.indicators import TLP_OPTIONS, collection_options, writable_collections

PIECE = 512 * 1024  # below the node's default body limit of 1 MB


def uploads_of(request: Request) -> Uploads:
    """The application's uploads: the jobs are in its store; the thread that stores them is its own."""
    found: Uploads | None = getattr(request.app.state, "uploads", None)
    if found is None:
        found = request.app.state.uploads = Uploads(store_of(request))
    return found


def _form(request: Request, collections: list[tuple[str, str]], sent: dict[str, str], errors: dict[str, str],
          status: int = 200) -> Response:
    return render(request, "upload.html", status_code=status, title="Upload",
                  collection_options=collection_options(collections), sent=sent, errors=errors, kinds=KINDS,
                  tlp_options=TLP_OPTIONS, piece=PIECE, limit=request.app.state.http.body_limit)


async def upload_page(request: Request) -> Response:
    principal = await current_principal(request)
    collections = await run_in_threadpool(writable_collections, store_of(request), principal)
    return _form(request, collections, {"kind": "auto", "tlp": Tlp.AMBER.label,
                                        "collection": collections[0][0] if collections else ""}, {})


def _options(sent: dict[str, str], collections: list[tuple[str, str]], errors: dict[str, str]) -> Tlp:
    if sent["kind"] not in KINDS:
        errors["kind"] = "Choose what the file is."
    if sent["collection"] not in {c for c, _ in collections}:
        errors["collection"] = "Choose a collection you may add to." if collections else \
            "Your key may not add objects to any collection."
    try:
        return Tlp.parse(sent["tlp"])
    except ValueError:
        errors["tlp"] = "Choose a TLP level."
        return Tlp.AMBER


async def upload_form(request: Request) -> Response:
    """Without JavaScript: the whole file in one multipart form (up to the body limit)."""
    principal = await current_principal(request)
    form = await checked_form(request)
    collections = await run_in_threadpool(writable_collections, store_of(request), principal)
    sent = {name: field(form, name, 200) for name in ("kind", "collection", "tlp")}
    errors: dict[str, str] = {}
    tlp = _options(sent, collections, errors)
    upload = form.get("file")
    data = b""
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors["file"] = "Choose a file: a STIX 2.1 bundle (JSON) or a list of IOCs (text or CSV)."
    else:
        data = await upload.read()
        if not data:
            errors["file"] = "The file is empty."
    if errors:
        return _form(request, collections, sent, errors, 400)
    assert isinstance(upload, UploadFile) and upload.filename
    uploads = uploads_of(request)
    name = upload.filename

    def work() -> Job:
        job = uploads.start(principal, name, sent["kind"], sent["collection"], tlp, len(data))
        uploads.append(principal, job.id, data)
        return uploads.finish(principal, job.id)
    job = await run_in_threadpool(work)
    return RedirectResponse(f"/upload/{job.id}", status_code=303)


def _csrf_header(request: Request) -> None:
    sent = request.headers.get("x-csrf-token", "")
    expected: str = getattr(request.state, "csrf", "")
    if not sent or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise FormRefused("this request was not sent from this session's page; reload and retry")


def _bad(message: str, name: str = "file") -> JSONResponse:
    return JSONResponse({"error": message, "field": name}, status_code=400)


async def upload_start(request: Request) -> Response:
    principal = await current_principal(request)
    form = await checked_form(request)
    collections = await run_in_threadpool(writable_collections, store_of(request), principal)
    sent = {name: field(form, name, 300) for name in ("kind", "collection", "tlp", "name", "size")}
    errors: dict[str, str] = {}
    tlp = _options(sent, collections, errors)
    size = sent["size"]
    if not (size.isascii() and size.isdigit() and 0 < int(size) <= MAX_SIZE):
        errors["file"] = f"Choose a file that is not empty and at most {MAX_SIZE // (1024 * 1024)} MB."
    if errors:
        name = next(iter(errors))
        return _bad(errors[name], name)
    job = await run_in_threadpool(uploads_of(request).start, principal, sent["name"] or "upload", sent["kind"],
                                  sent["collection"], tlp, int(size))
    return JSONResponse({"job": job.id, "piece": PIECE, "status": f"/upload/{job.id}/status",
                         "page": f"/upload/{job.id}"}, status_code=201)


async def _job(request: Request, principal: Principal) -> Job:
    return await run_in_threadpool(uploads_of(request).get, principal, request.path_params["job"])


async def upload_piece(request: Request) -> Response:
    principal = await current_principal(request)
    _csrf_header(request)
    try:
        piece = await request.body()
        job = await run_in_threadpool(uploads_of(request).append, principal, request.path_params["job"], piece)
    except NotFound:
        return JSONResponse({"error": "no such upload"}, status_code=404)
    except InvalidInput as exc:
        return _bad(exc.message)
    return JSONResponse(job.to_json())


async def upload_finish(request: Request) -> Response:
    principal = await current_principal(request)
    _csrf_header(request)
    try:
        job = await run_in_threadpool(uploads_of(request).finish, principal, request.path_params["job"])
    except NotFound:
        return JSONResponse({"error": "no such upload"}, status_code=404)
    except InvalidInput as exc:
        return _bad(exc.message)
    return JSONResponse(job.to_json(), status_code=202)


async def upload_status(request: Request) -> Response:
    principal = await current_principal(request)
    try:
        job = await _job(request, principal)
    except NotFound:
        return JSONResponse({"error": "no such upload"}, status_code=404)
    return JSONResponse(job.to_json())


async def job_page(request: Request) -> Response:
    principal = await current_principal(request)
    try:
        job = await _job(request, principal)
    except NotFound:
        return render(request, "error.html", status_code=404, title="No such upload",
                      message="There is no upload with this id that you started.")
    return render(request, "upload_job.html", title=f"Upload {job.name}", job=job.to_json(),
                  running=job.state in ("receiving", "storing"))


routes = [
    Page("/upload", upload_page, methods=["GET"]),
    Page("/upload", upload_form, methods=["POST"]),
    Page("/upload/start", upload_start, methods=["POST"]),
    Page("/upload/{job:str}", job_page, methods=["GET"]),
    Page("/upload/{job:str}/piece", upload_piece, methods=["POST"]),
    Page("/upload/{job:str}/finish", upload_finish, methods=["POST"]),
    Page("/upload/{job:str}/status", upload_status, methods=["GET"]),
]
