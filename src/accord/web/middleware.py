"""The node's HTTP edge: its public origin, security headers, a rate limit and a body size limit.

Pure ASGI middleware, not Starlette's BaseHTTPMiddleware, which would hold back the Server-Sent
Events of accord.web.events. Each layer does a few dictionary and list operations per request and
never touches the database.
"""

from __future__ import annotations

import math
import time
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accord.config import HttpSettings
from accord.domain.errors import TooLarge, Unauthenticated
from accord.services import auth
from accord.web.errors import taxii_error


def guard(app: ASGIApp, settings: HttpSettings) -> ASGIApp:
    """``app`` behind every layer, outermost first, so that the layers' own answers (413, 429) carry
    the security headers too."""
    inner: ASGIApp = BodyLimit(app, settings.body_limit)
    if settings.rate_limit > 0:
        inner = RateLimit(inner, settings.rate_limit, settings.rate_burst)
    return SecurityHeaders(PublicOrigin(inner, settings.public_url), hsts=settings.public_url.startswith("https:"))


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


_CSP = b"default-src 'none'; frame-ancestors 'none'"
# The console's pages (accord.web.ui) load their own stylesheet, script and images, send forms and
# JSON requests to this node only, and nothing inline: no inline script or style can run.
_HTML_CSP = (b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
             b"form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


class SecurityHeaders:
    """Headers every response carries, replacing any the handler set under the same names.

    Cache-Control: no-store goes on every answer to a request with credentials (an API key, or the
    console's cookies) and on every HTML page but the public ones (``/public/``, accord.web.public)
    asked for without credentials: what a key or a session may read is no business of a shared
    cache, and what everybody may read is. HTML pages get a Content-Security-Policy of their own (:data:`_HTML_CSP`).
    Strict-Transport-Security goes out when the node's public URL is https (browsers ignore it over
    plain HTTP, RFC 6797 section 8.1).
    """

    def __init__(self, app: ASGIApp, hsts: bool) -> None:
        self.app = app
        common = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                  (b"x-frame-options", b"DENY")]
        if hsts:
            common.append((b"strict-transport-security", b"max-age=31536000"))
        no_store = (b"cache-control", b"no-store")
        self._public = [*common, (b"content-security-policy", _CSP)]
        self._private = [*self._public, no_store]
        self._public_html = [*common, (b"content-security-policy", _HTML_CSP)]
        self._html = [*self._public_html, no_store]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        credentials = _header(scope, b"authorization") is not None or _header(scope, b"cookie") is not None
        chosen = self._private if credentials else self._public
        html_headers = self._public_html if not credentials and scope["path"].startswith("/public/") else self._html

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", ())
                html = any(k == b"content-type" and bytes(v).startswith(b"text/html") for k, v in headers)
                extra = html_headers if html else chosen
                names = {name for name, _ in extra}
                message["headers"] = [h for h in headers if h[0] not in names] + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


class PublicOrigin:
    """The app sees every request as addressed to the node's public URL, whatever Host header and
    scheme it came with, so no URL the app builds (discovery, Starlette's trailing-slash redirects)
    can name a host an attacker chose."""

    def __init__(self, app: ASGIApp, public_url: str) -> None:
        self.app = app
        parts = urlsplit(public_url)
        self.scheme = parts.scheme
        self.host = (b"host", parts.netloc.encode("ascii"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope["scheme"] = self.scheme
            scope["headers"] = [self.host, *(h for h in scope["headers"] if h[0] != b"host")]
        await self.app(scope, receive, send)


_KEY_PREFIX = "acc_"  # the key format of accord.services.auth: acc_<key id>_<secret>


def claimed_key_id(authorization: bytes | None) -> str | None:
    """The key id an Authorization header names (Bearer, or Basic with the key as the password),
    whether or not the key is valid; None when it names none."""
    if authorization is None:
        return None
    try:
        key = auth.key_from_header(authorization.decode("latin-1"))
    except Unauthenticated:
        return None
    key_id, sep, _ = key.removeprefix(_KEY_PREFIX).partition("_")
    return key_id if key.startswith(_KEY_PREFIX) and sep and key_id else None


_SWEEP_AT = 10_000


class RateLimit:
    """Token buckets: each holds up to ``burst`` requests and refills at ``rate`` a second.

    A request that names an API key draws on its key id's bucket, one without on its client
    address's. The key id is read, not verified (services.auth verifies it, in the handler): a
    client that invents key ids gets a bucket for each, and a 401 for each request after one indexed
    read. The limit meters clients; it does not stop a flood from many identities. A refused request
    gets 429 with Retry-After in whole seconds (RFC 6585 section 4). The buckets live in the worker
    process: with several workers the limit is per worker.
    """

    def __init__(self, app: ASGIApp, rate: float, burst: int) -> None:
        self.app = app
        self.rate = rate
        self.burst = float(burst)
        self.buckets: dict[str, tuple[float, float]] = {}
        self._swept = -math.inf

    def draw(self, name: str, now: float) -> float:
        """Take a token from the bucket ``name`` and return 0, or the seconds until one is there."""
        tokens, stamp = self.buckets.get(name, (self.burst, now))
        tokens = min(self.burst, tokens + (now - stamp) * self.rate)
        if tokens < 1:
            self.buckets[name] = (tokens, now)
            return (1 - tokens) / self.rate
        self.buckets[name] = (tokens - 1, now)
        if len(self.buckets) > _SWEEP_AT and now - self._swept >= self.burst / self.rate:
            self._sweep(now)
        return 0.0

    def _sweep(self, now: float) -> None:
        """Forget the buckets that have filled up again (a full bucket and none are the same). Sweeps
        are at least the time an empty bucket takes to fill apart, so each removes every bucket not
        drawn on since the one before, and invented key ids cost memory only for a while."""
        full = [n for n, (tokens, stamp) in self.buckets.items() if tokens + (now - stamp) * self.rate >= self.burst]
        for name in full:
            del self.buckets[name]
        self._swept = now

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        key_id = claimed_key_id(_header(scope, b"authorization"))
        if key_id is None:
            client = scope.get("client")
            wait = self.draw("address " + (client[0] if client else ""), time.monotonic())
        else:
            wait = self.draw("key " + key_id, time.monotonic())
        if wait:
            await self._refuse(wait, "your API key" if key_id else "your address", scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _refuse(self, wait: float, whose: str, scope: Scope, receive: Receive, send: Send) -> None:
        seconds = max(1, math.ceil(wait))
        response = taxii_error(429, "Too Many Requests",
                               f"{whose} is over this node's limit of {self.rate:g} requests a second "
                               f"(bursts of {self.burst:g}); retry in {seconds} s")
        response.headers["Retry-After"] = str(seconds)
        await response(scope, receive, send)


def _adds_objects(scope: Scope) -> bool:
    """TAXII 2.1 Add Objects (section 5.5), which enforces its API root's max_content_length."""
    path: str = scope["path"]
    return scope["method"] == "POST" and path.startswith("/taxii2/") and path.endswith("/objects/")


class BodyLimit:
    """At most ``limit`` bytes of request body on every route but TAXII Add Objects: 413 before the
    app runs when Content-Length says more; TooLarge (413 as well) while the app reads a chunked
    body that grows past it. A declared length needs no counting: the server reads no further."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _adds_objects(scope):
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > self.limit:
                response = taxii_error(413, "Payload Too Large",
                                       f"the body is {int(declared)} bytes; this endpoint takes at most {self.limit}")
                await response(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        size = 0

        async def receive_within_limit() -> Message:
            nonlocal size
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > self.limit:
                    raise TooLarge(f"the body is over this endpoint's limit of {self.limit} bytes")
            return message

        await self.app(scope, receive_within_limit, send)
