"""The HTTP edge (accord.web.middleware), in process: public origin, limits and security headers."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from accord.config import HttpSettings
from accord.federation.service import enable as enable_federation
from accord.services import objects as svc
from accord.web.app import create_app
from accord.web.middleware import RateLimit, claimed_key_id
from tests.conftest import Node
from tests.stixgen import TAXII, envelope, indicator
from tests.web.conftest import BASE

PUBLIC = "https://taxii.example.org"
SECURITY = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "x-frame-options": "DENY",
            "content-security-policy": "default-src 'none'; frame-ancestors 'none'"}


def client_for(node: Node, **settings: Any) -> TestClient:
    return TestClient(create_app(node.store, HttpSettings(**settings)), raise_server_exceptions=False)


@pytest.fixture
def public(node: Node) -> Iterator[TestClient]:
    with client_for(node, public_url=PUBLIC) as c:
        yield c


def taxii(node: Node, who: str = "energy-co") -> dict[str, str]:
    return {**node.auth(who), "Accept": TAXII}


def assert_taxii_error(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == TAXII
    body: dict[str, Any] = r.json()
    assert body["http_status"] == str(status) and body["title"] and body["description"]
    return body


def assert_secured(r: httpx.Response, authenticated: bool = True, hsts: bool = True) -> None:
    assert {k: r.headers.get(k) for k in SECURITY} == SECURITY
    assert r.headers.get("cache-control") == ("no-store" if authenticated else None)
    assert ("strict-transport-security" in r.headers) is hsts


def test_discovery_names_the_public_url_whatever_the_host_header(public: TestClient, node: Node) -> None:
    r = public.get("/taxii2/", headers={**taxii(node), "Host": "evil.example"})
    assert r.status_code == 200
    assert r.json()["api_roots"] == [f"{PUBLIC}/taxii2/default/"]
    assert r.json()["default"] == f"{PUBLIC}/taxii2/default/"


def test_discovery_defaults_to_the_address_serve_binds(client: TestClient, node: Node) -> None:
    r = client.get("/taxii2/", headers={**taxii(node), "Host": "evil.example"})
    assert r.json()["default"] == "http://127.0.0.1:8660/taxii2/default/"


def test_trailing_slash_redirects_name_the_public_url(public: TestClient, node: Node) -> None:
    r = public.get("/taxii2", headers={**taxii(node), "Host": "evil.example"}, follow_redirects=False)
    assert r.status_code == 307
    assert r.headers["location"] == f"{PUBLIC}/taxii2/"


def test_public_url_is_an_origin() -> None:
    for bad in ("taxii.example.org", "ftp://taxii.example.org", f"{PUBLIC}/accord", f"{PUBLIC}/?a=1",
                "https://user@taxii.example.org", "https://taxii.example.org:port"):
        with pytest.raises(ValueError, match="public URL|Port"):
            HttpSettings(public_url=bad)


def test_security_headers_on_taxii_and_error_responses(public: TestClient, node: Node) -> None:
    assert_secured(public.get("/taxii2/", headers=taxii(node)))
    assert_secured(public.get(BASE + "/objects/", headers=taxii(node, "outsider")))  # 404
    unauthenticated = public.get("/taxii2/", headers={"Accept": TAXII})
    assert_taxii_error(unauthenticated, 401)
    assert_secured(unauthenticated, authenticated=False)
    assert_secured(public.get("/"), authenticated=False)


def test_no_hsts_when_the_public_url_is_plain_http(client: TestClient, node: Node) -> None:
    assert_secured(client.get("/taxii2/", headers=taxii(node)), hsts=False)


def test_security_headers_on_an_unexpected_error(public: TestClient, node: Node,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(svc, "visible_collections", broken)
    r = public.get("/taxii2/default/collections/", headers=taxii(node))
    assert_taxii_error(r, 500)
    assert_secured(r)


def test_security_headers_on_the_event_stream(node: Node, tmp_path: Path) -> None:
    """The stream never ends: the response start and its first event arrive while it runs, so the
    middleware passes the stream through instead of holding it back."""
    app = create_app(node.store, HttpSettings(public_url=PUBLIC))
    enable_federation(app, tmp_path)
    messages = asyncio.run(first_messages(app, "/federation/events/", node.auth("energy-co")))
    start, first = messages
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    assert start["status"] == 200 and headers["content-type"].startswith("text/event-stream")
    assert {k: headers.get(k) for k in SECURITY} == SECURITY
    assert headers["cache-control"] == "no-store" and "strict-transport-security" in headers
    assert first["body"].startswith(b": accord early warning")


async def first_messages(app: Starlette, path: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    """The ASGI messages of a response up to its first body chunk; the request is then abandoned."""
    messages: list[dict[str, Any]] = []
    got_body = asyncio.Event()

    async def receive() -> dict[str, Any]:
        await asyncio.Event().wait()  # the client neither sends more nor leaves
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)
        if message["type"] == "http.response.body":
            got_body.set()

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8660), "state": {}}
    task = asyncio.create_task(app(scope, receive, send))
    try:
        await asyncio.wait_for(got_body.wait(), 15)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return messages[:2]


def test_oversize_body_to_a_non_taxii_route_is_413(node: Node) -> None:
    with client_for(node, public_url=PUBLIC) as c:
        r = c.post("/coordination/consultations", content=b"{" + b" " * HttpSettings().body_limit + b"}",
                   headers=node.auth("energy-co"))
    assert_taxii_error(r, 413)
    assert_secured(r)


def test_oversize_chunked_body_is_413_but_taxii_add_objects_keeps_its_api_roots_limit(node: Node) -> None:
    """No Content-Length: the body is counted as the handler reads it. TAXII Add Objects answers to
    its API root's max_content_length (100 MiB here), not to the node-wide limit."""
    with client_for(node, body_limit=1000) as c:
        r = c.post("/coordination/consultations", content=iter([b"{", b" " * 1000, b"}"]),
                   headers=node.auth("energy-co"))
        added = c.post(BASE + "/objects/", json=envelope(*(indicator(n) for n in range(20))),
                       headers={**taxii(node), "Content-Type": TAXII})
    assert "content-length" not in r.request.headers
    assert_taxii_error(r, 413)
    assert_secured(r, hsts=False)
    assert len(added.request.content) > 1000
    assert added.status_code == 202 and added.json()["success_count"] == 20


def test_a_key_over_its_rate_gets_429_with_retry_after(node: Node) -> None:
    with client_for(node, public_url=PUBLIC, rate_limit=0.01, rate_burst=3) as c:
        assert [c.get("/taxii2/", headers=taxii(node)).status_code for _ in range(3)] == [200] * 3
        r = c.get("/taxii2/", headers=taxii(node))
        assert "your API key" in assert_taxii_error(r, 429)["description"]
        assert r.headers["retry-after"] == "100"  # one token at 0.01 a second
        assert_secured(r)
        assert c.get("/taxii2/", headers=taxii(node, "health-isac")).status_code == 200  # its own bucket
    with client_for(node, rate_limit=0, rate_burst=1) as c:  # 0: no limit
        assert {c.get("/taxii2/", headers=taxii(node)).status_code for _ in range(5)} == {200}


def test_unauthenticated_requests_draw_on_their_address(node: Node) -> None:
    with client_for(node, rate_limit=0.01, rate_burst=2) as c:
        assert [c.get("/").status_code for _ in range(2)] == [200, 200]
        r = c.get("/")
        assert "your address" in assert_taxii_error(r, 429)["description"]
        assert r.headers["retry-after"] == "100"


def test_buckets_refill_at_the_rate() -> None:
    buckets = RateLimit(Starlette(), rate=2, burst=2)
    assert [buckets.draw("k", 0.0) for _ in range(2)] == [0.0, 0.0]
    assert buckets.draw("k", 0.0) == pytest.approx(0.5)
    assert buckets.draw("k", 0.5) == 0.0
    assert buckets.draw("k", 0.5) == pytest.approx(0.5)
    assert [buckets.draw("k", 10.0) for _ in range(3)] == [0.0, 0.0, pytest.approx(0.5)]  # full, not over


def test_buckets_that_filled_up_again_are_forgotten() -> None:
    """Invented key ids cost memory only while their buckets refill."""
    buckets = RateLimit(Starlette(), rate=0.1, burst=5)
    for n in range(10_001):
        buckets.draw(f"invented {n}", 0.0)
    assert len(buckets.buckets) == 10_001  # swept on the last draw; none had filled up again
    buckets.draw("soon", 49.0)  # the next sweep waits for the time an empty bucket takes to fill, 50 s
    assert len(buckets.buckets) == 10_002
    buckets.draw("late", 50.0)
    assert list(buckets.buckets) == ["soon", "late"]  # drawn on within the last 50 s


@pytest.mark.parametrize(("authorization", "key_id"), [
    (b"Bearer acc_0123abcd_secret", "0123abcd"),
    (b"Basic " + base64.b64encode(b"anyone:acc_0123abcd_secret"), "0123abcd"),
    (b"Bearer something-else", None), (b"Bearer acc__secret", None), (b"Digest x", None), (None, None)])
def test_the_key_id_is_read_from_bearer_and_basic(authorization: bytes | None, key_id: str | None) -> None:
    assert claimed_key_id(authorization) == key_id
