"""The TAXII 2.1 API (OASIS Standard, 10 June 2021), section by section.

Discovery lives at ``/taxii2/``; API roots at ``/taxii2/<name>/``. Every endpoint authenticates.
Handlers only translate HTTP to service calls and back; decisions live in ``accord.services``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accord.domain.errors import InvalidInput, TooLarge
from accord.domain.model import ApiRoot, Principal
from accord.services import auth
from accord.services import objects as svc
from accord.services.objects import Page
from accord.stix.timestamps import micros_to_timestamp
from accord.store.repository import Store
from accord.web.errors import HttpError
from accord.web.filters import parse_filter
from accord.web.media import TAXII_MEDIA, accepts_taxii, is_taxii_content

Handler = Callable[[Request], Awaitable[Response]]


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=TAXII_MEDIA, headers=headers)


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


async def _principal(request: Request) -> Principal:
    if not accepts_taxii(request.headers.get("accept")):
        raise HttpError(406, "Not Acceptable", f"this server answers with {TAXII_MEDIA}")
    return await run_in_threadpool(auth.authenticate, _store(request), request.headers.get("authorization"))


async def _root(request: Request) -> ApiRoot:
    store = _store(request)

    def find() -> ApiRoot:
        with store.read() as tx:
            return tx.get_api_root(request.path_params["root"])

    return await run_in_threadpool(find)


def _page_headers(page: Page) -> dict[str, str]:
    if not page.versions:
        return {}
    return {"X-TAXII-Date-Added-First": micros_to_timestamp(page.versions[0].date_added),
            "X-TAXII-Date-Added-Last": micros_to_timestamp(page.versions[-1].date_added)}


def _envelope(page: Page) -> Response:
    """TAXII 2.1 3.7 envelope, assembled from stored bytes without parsing them again."""
    if not page.versions:
        return Response(b"{}", media_type=TAXII_MEDIA)
    head = b'{"more":true,"next":' + orjson.dumps(page.next) + b"," if page.more else b'{"more":false,'
    body = head + b'"objects":[' + b",".join(v.body for v in page.versions) + b"]}"
    return Response(body, media_type=TAXII_MEDIA, headers=_page_headers(page))


def _collection_resource(col: Any, access: Any) -> dict[str, Any]:
    resource = {"id": col.uuid, "title": col.title, "can_read": access.can_read, "can_write": access.can_write,
                "media_types": [TAXII_MEDIA]}
    if col.description:
        resource["description"] = col.description
    if col.alias:
        resource["alias"] = col.alias
    return resource


# 4.1 Server Discovery
async def discovery(request: Request) -> Response:
    await _principal(request)
    store = _store(request)

    def build() -> dict[str, Any]:
        with store.read() as tx:
            roots = [f"/taxii2/{r.name}/" for r in tx.list_api_roots()]
            title = tx.get_setting("node_title") or "Accord node"
        base = str(request.base_url).rstrip("/")
        body: dict[str, Any] = {"title": title, "description": "Accord threat-intelligence exchange node",
                                "api_roots": [base + r for r in roots]}
        if roots:
            body["default"] = base + roots[0]
        return body

    return _json(await run_in_threadpool(build))


# 4.2 Get API Root Information
async def api_root(request: Request) -> Response:
    await _principal(request)
    root = await _root(request)
    body = {"title": root.title, "versions": [TAXII_MEDIA], "max_content_length": root.max_content_length}
    if root.description:
        body["description"] = root.description
    return _json(body)


# 4.3 Get Status
async def status(request: Request) -> Response:
    principal = await _principal(request)
    root = await _root(request)
    body = await run_in_threadpool(svc.get_status, _store(request), principal, root,
                                   request.path_params["status_id"])
    return Response(body, media_type=TAXII_MEDIA)


# 5.1 Get Collections
async def collections(request: Request) -> Response:
    principal = await _principal(request)
    root = await _root(request)
    store = _store(request)

    def build() -> dict[str, Any]:
        with store.read() as tx:
            found = svc.visible_collections(tx, principal, root)
        return {"collections": [_collection_resource(c, a) for c, a in found]} if found else {}

    return _json(await run_in_threadpool(build))


# 5.2 Get A Collection
async def collection(request: Request) -> Response:
    principal = await _principal(request)
    root = await _root(request)
    store = _store(request)

    def build() -> dict[str, Any]:
        with store.read() as tx:
            return _collection_resource(*svc.resolve_collection(tx, principal, root, request.path_params["cid"]))

    return _json(await run_in_threadpool(build))


# 5.3 Get Object Manifests
async def manifest(request: Request) -> Response:
    principal = await _principal(request)
    root = await _root(request)
    q = request.query_params
    page = await run_in_threadpool(svc.get_manifest, _store(request), principal, root, request.path_params["cid"],
                                   parse_filter(q), q.get("next"), svc.parse_limit(q.get("limit")))
    if not page.versions:
        return _json({})
    records = [{"id": v.id, "date_added": micros_to_timestamp(v.date_added), "version": svc.display_version(v),
                "media_type": "application/stix+json;version=2.1"} for v in page.versions]
    body: dict[str, Any] = {"more": page.more, "objects": records}
    if page.more:
        body["next"] = page.next
    return _json(body, headers=_page_headers(page))


# 5.4 Get Objects, 5.5 Add Objects
async def objects(request: Request) -> Response:
    principal = await _principal(request)
    root = await _root(request)
    q = request.query_params
    if request.method == "GET":
        page = await run_in_threadpool(svc.get_objects, _store(request), principal, root,
                                       request.path_params["cid"], parse_filter(q), q.get("next"),
                                       svc.parse_limit(q.get("limit")))
        return _envelope(page)
    if not is_taxii_content(request.headers.get("content-type")):
        raise HttpError(415, "Unsupported Media Type", f"POST a TAXII envelope as {TAXII_MEDIA}")
    raw = await _read_body(request, root.max_content_length)
    try:
        envelope = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"the body is not valid JSON: {exc}") from None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("objects"), list):
        raise HttpError(422, "Unprocessable Entity", "the body must be a TAXII envelope with an 'objects' list")
    result = await run_in_threadpool(svc.add_objects, _store(request), principal, root, request.path_params["cid"],
                                     envelope["objects"])
    return _json(result, status=202)


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"the body is {declared} bytes; this API root takes at most {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the body is over this API root's max_content_length of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


# 5.6 Get An Object, 5.7 Delete An Object
async def one_object(request: Request) -> Response:
    principal = await _principal(request)
    root = await _root(request)
    q = request.query_params
    p = request.path_params
    if request.method == "DELETE":
        await run_in_threadpool(svc.delete_object, _store(request), principal, root, p["cid"], p["oid"],
                                parse_filter(q))
        return Response(status_code=200, media_type=TAXII_MEDIA)
    page = await run_in_threadpool(svc.get_object, _store(request), principal, root, p["cid"], p["oid"],
                                   parse_filter(q), q.get("next"), svc.parse_limit(q.get("limit")))
    return _envelope(page)


# 5.8 Get Object Versions
async def versions(request: Request) -> Response:
    principal = await _principal(request)
    root = await _root(request)
    q = request.query_params
    p = request.path_params
    page = await run_in_threadpool(svc.get_versions, _store(request), principal, root, p["cid"], p["oid"],
                                   parse_filter(q, allow_version=False), q.get("next"),
                                   svc.parse_limit(q.get("limit")))
    body: dict[str, Any] = {"more": page.more, "versions": [svc.display_version(v) for v in page.versions]}
    if page.more:
        body["next"] = page.next
    return _json(body, headers=_page_headers(page))


routes = [
    Route("/taxii2/", discovery, methods=["GET"]),
    Route("/taxii2/{root}/", api_root, methods=["GET"]),
    Route("/taxii2/{root}/status/{status_id}/", status, methods=["GET"]),
    Route("/taxii2/{root}/collections/", collections, methods=["GET"]),
    Route("/taxii2/{root}/collections/{cid}/", collection, methods=["GET"]),
    Route("/taxii2/{root}/collections/{cid}/manifest/", manifest, methods=["GET"]),
    Route("/taxii2/{root}/collections/{cid}/objects/", objects, methods=["GET", "POST"]),
    Route("/taxii2/{root}/collections/{cid}/objects/{oid}/", one_object, methods=["GET", "DELETE"]),
    Route("/taxii2/{root}/collections/{cid}/objects/{oid}/versions/", versions, methods=["GET"]),
]
