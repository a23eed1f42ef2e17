"""The node's public voice (issue 18): advisories for citizens and small organisations.

    GET /public/advisories              the list (HTML), ``?q=`` searches it, ``?lang=`` picks a language
    GET /public/advisories/{advisory}   one advisory (HTML) in ``?lang=`` or the Accept-Language match
    GET /public/advisories.atom         the Atom feed (RFC 4287), made with feedgen

No authentication, deliberately: everything here comes from
:func:`accord.services.advisories.published`, which shows only what a person approved and what
:func:`accord.domain.sharing.may_publish` lets out (TLP:CLEAR). The pages use their own templates,
not the console's frame. Responses are cacheable (Cache-Control public, a strong ETag over the body,
304 for a matching If-None-Match, RFC 9110 section 13.1.2); errors are TAXII error messages like the
rest of the API's; each client address has a token bucket of its own here, stricter than the node's
general limit (HttpSettings.public_rate).
"""

from __future__ import annotations

import functools
import hashlib
import math
import time
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, request_response
from starlette.types import ASGIApp, Receive, Scope, Send

from accord.config import HttpSettings
from accord.domain import advisories as adv
from accord.domain.errors import NotFound
from accord.services import advisories as svc
from accord.store.repository import Store
from accord.web.errors import taxii_error
from accord.web.middleware import RateLimit

HERE = Path(__file__).parent
CACHE_CONTROL = "public, max-age=300"
MAX_QUERY = 200
WORDS: dict[str, dict[str, str]] = {
    "en": {"advisories": "Security advisories", "feed": "Atom feed", "search": "Search", "count": "Advisories",
           "none": "No advisories.", "from": "Published by", "software": "Software named",
           "languages": "Other languages", "not_found": "No such advisory"},
    "fr": {"advisories": "Avis de sécurité", "feed": "Flux Atom", "search": "Rechercher", "count": "Avis",
           "none": "Aucun avis.", "from": "Publié par", "software": "Logiciels cités",
           "languages": "Autres langues", "not_found": "Avis introuvable"},
    "de": {"advisories": "Sicherheitshinweise", "feed": "Atom-Feed", "search": "Suchen", "count": "Hinweise",
           "none": "Keine Hinweise.", "from": "Veröffentlicht von", "software": "Genannte Software",
           "languages": "Andere Sprachen", "not_found": "Hinweis nicht gefunden"},
}


@functools.cache
def environment() -> Environment:
    return Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _page_lang(request: Request) -> tuple[str, str | None]:
    """The language of the page's own words, and the ``?lang=`` asked for (kept in its links)."""
    asked = request.query_params.get("lang")
    if asked is not None and (len(asked) > 35 or not asked.replace("-", "").isalnum()):
        asked = None
    return adv.negotiate(sorted(WORDS), asked, request.headers.get("accept-language"), "en"), asked


def cacheable(request: Request, body: bytes, media_type: str) -> Response:
    """The response with Cache-Control and an ETag, or 304 when the client holds this body already."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": etag, "Vary": "Accept-Language"}
    held = request.headers.get("if-none-match", "")
    if (held.strip() == "*" or etag in (t.strip().removeprefix("W/") for t in held.split(","))):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def _context(request: Request, store: Store, lang: str, asked: str | None) -> dict[str, Any]:
    base = request.app.state.http.public_url
    return {"lang": lang, "asked": asked, "lang_query": f"?lang={asked}" if asked else "",
            "words": WORDS[lang], "publisher": svc.publisher(store), "feed_title": WORDS[lang]["advisories"],
            "feed_url": f"{base}/public/advisories.atom" + (f"?lang={asked}" if asked else "")}


async def index(request: Request) -> Response:
    store = _store(request)
    lang, asked = _page_lang(request)
    query = request.query_params.get("q", "")[:MAX_QUERY]

    def work() -> bytes:
        shown = [p for p in svc.published(store) if p.matches(query)]
        items = []
        for p in shown:
            chosen = adv.negotiate(p.languages, asked, request.headers.get("accept-language"), p.content.language)
            items.append({"id": p.id, "modified": p.modified, "lang": chosen, "text": p.content.texts[chosen]})
        html = environment().get_template("index.html").render(
            **_context(request, store, lang, asked), items=items, query=query)
        return html.encode()

    return cacheable(request, await run_in_threadpool(work), "text/html; charset=utf-8")


async def advisory(request: Request) -> Response:
    store = _store(request)
    lang, asked = _page_lang(request)
    wanted = request.path_params["advisory"]

    def work() -> bytes:
        found = next((p for p in svc.published(store) if p.id == wanted), None)
        if found is None:
            raise NotFound(f"no published advisory {wanted!r}")
        context = _context(request, store, lang, asked)
        chosen = adv.negotiate(found.languages, asked, request.headers.get("accept-language"),
                               found.content.language)
        heads = adv.HEADINGS.get(chosen.split("-")[0], adv.HEADINGS["en"])
        context["lang"] = chosen if chosen.split("-")[0] in WORDS else lang
        html = environment().get_template("advisory.html").render(
            **context, advisory=found, item_lang=chosen, text=found.content.texts[chosen],
            sections=[(s, heads[s]) for s in adv.SECTIONS], languages=found.languages)
        return html.encode()

    return cacheable(request, await run_in_threadpool(work), "text/html; charset=utf-8")


def atom(published: list[adv.Published], base: str, author: str, asked: str | None,
         accept_language: str | None) -> bytes:
    """The feed (RFC 4287): one entry per advisory in its best language, its four parts as text."""
    from feedgen.feed import FeedGenerator

    lang = adv.negotiate(sorted(WORDS), asked, accept_language, "en")
    fg = FeedGenerator()
    fg.id(f"{base}/public/advisories")
    fg.title(f"{WORDS[lang]['advisories']} · {author}")
    fg.author({"name": author})
    fg.link(href=f"{base}/public/advisories.atom", rel="self", type="application/atom+xml")
    fg.link(href=f"{base}/public/advisories", rel="alternate", type="text/html")
    fg.language(lang)
    fg.updated(published[0].modified if published else "1970-01-01T00:00:00Z")
    for p in published:
        chosen = adv.negotiate(p.languages, asked, accept_language, p.content.language)
        text = p.content.texts[chosen]
        entry = fg.add_entry(order="append")
        entry.id(f"urn:uuid:{p.id.split('--')[1]}")
        entry.title(text.title)
        entry.updated(p.modified)
        entry.published(p.published)
        entry.link(href=f"{base}/public/advisories/{p.id}?lang={chosen}", rel="alternate", type="text/html",
                   hreflang=chosen)
        entry.summary(text.what_happened)
        entry.content(text.description(chosen), type="text")
    body: bytes = fg.atom_str(pretty=True)
    return body


async def feed(request: Request) -> Response:
    store = _store(request)
    _, asked = _page_lang(request)

    def work() -> bytes:
        return atom(svc.published(store), request.app.state.http.public_url, svc.publisher(store), asked,
                    request.headers.get("accept-language"))

    return cacheable(request, await run_in_threadpool(work), "application/atom+xml; charset=utf-8")


class PublicLimit:
    """A token bucket per client address for the public pages alone, whatever Authorization header a
    request carries (nobody authenticates here, so a key id would only let a client pick buckets)."""

    def __init__(self, app: ASGIApp, buckets: RateLimit) -> None:
        self.app = app
        self.buckets = buckets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        wait = self.buckets.draw("address " + (client[0] if client else ""), time.monotonic())
        if wait:
            seconds = max(1, math.ceil(wait))
            response = taxii_error(429, "Too Many Requests", f"your address is over the public pages' limit of "
                                   f"{self.buckets.rate:g} requests a second; retry in {seconds} s",
                                   {"Retry-After": str(seconds)})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def routes(http: HttpSettings) -> list[Route]:
    """The public routes, drawing on one set of buckets (per app, so per worker process)."""
    from accord.web.public import notices

    pages: dict[tuple[str, str], Any] = {
        ("/public/advisories", "GET"): index, ("/public/advisories.atom", "GET"): feed,
        ("/public/advisories/{advisory}", "GET"): advisory, ("/public/notices/{notice}", "GET"): notices.confirm_page,
        ("/public/notices/{notice}", "POST"): notices.acknowledge}
    if http.public_rate > 0:
        buckets = RateLimit(request_response(index), http.public_rate, http.public_burst)  # for its draw()
        pages = {key: PublicLimit(request_response(endpoint), buckets) for key, endpoint in pages.items()}
    return [Route(path, endpoint, methods=[method]) for (path, method), endpoint in pages.items()]
