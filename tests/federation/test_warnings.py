"""Early warning across two nodes: SSE, signed webhooks, and corroboration by two organisations' sightings."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from accord.domain.model import OrgKind
from accord.domain.sharing import Role
from accord.domain.tlp import TLP2_MARKING_IDS, Tlp
from accord.federation import peers as fed
from accord.federation.model import WarningFilter
from accord.services import admin, transparency
from tests.federation.cluster import Node, link, wait_until
from tests.stixgen import indicator

pytestmark = pytest.mark.e2e


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    received: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook", received
    finally:
        server.shutdown()
        thread.join(timeout=10)


def _sighting(indicator_id: str, by: str) -> dict[str, Any]:
    return {"type": "sighting", "spec_version": "2.1", "id": f"sighting--{uuid.uuid4()}",
            "created": "2026-11-27T00:00:00.000Z", "modified": "2026-11-27T00:00:00.000Z",
            "sighting_of_ref": indicator_id, "created_by_ref": by, "count": 1,
            "object_marking_refs": [TLP2_MARKING_IDS[Tlp.GREEN]]}


class Stream:
    """An SSE client on a thread; closed (and joined) by the test."""

    def __init__(self, url: str, key: str) -> None:
        self.events: list[dict[str, Any]] = []
        self.connected = threading.Event()
        self._client = httpx.Client(timeout=httpx.Timeout(5.0, read=None))
        self._thread = threading.Thread(target=self._run, args=(url, key), daemon=True)
        self._thread.start()

    def _run(self, url: str, key: str) -> None:
        try:
            with self._client.stream("GET", url + "/federation/events/", params={"min_confidence": "50"},
                                     headers={"Authorization": f"Bearer {key}"}) as resp:
                for line in resp.iter_lines():
                    self.connected.set()
                    if line.startswith("data: "):
                        self.events.append(json.loads(line[6:]))
        except httpx.HTTPError:
            pass

    def close(self) -> None:
        self._client.close()
        self._thread.join(timeout=10)


def _soc_b(b: Node, hook_url: str) -> tuple[str, str]:
    """An energy company at B with an analyst's key and a webhook subscription: (key, webhook secret)."""
    admin.add_org(b.store, "soc-b", OrgKind.COMPANY, "FR", ("energy",))
    admin.grant(b.store, "default", "soc-b", read=True, write=True)
    _, soc_key = admin.add_account(b.store, "soc-b-analyst", "soc-b", Role.CONTRIBUTOR)
    secret = fed.subscribe(b.store, "soc-b-all", "soc-b", WarningFilter(min_confidence=50), hook_url)
    assert secret
    return soc_key, secret


def test_warnings_reach_sse_and_webhooks_and_corroboration_raises_priority(
        nodes: Callable[[str], Node], webhook: tuple[str, list[tuple[dict[str, str], bytes]]]) -> None:
    a, b = nodes("A"), nodes("B")
    link(a, b)
    hook_url, received = webhook
    soc_key, secret = _soc_b(b, hook_url)
    stream = Stream(b.url, soc_key)
    try:
        assert stream.connected.wait(15)
        ind = indicator(1, tlp=Tlp.GREEN, confidence=80)
        low = indicator(2, tlp=Tlp.GREEN, confidence=10)
        a.post([ind, low])
        wait_until(lambda: any(e["id"] == ind["id"] for e in stream.events), 15, "the SSE warning at B")
        assert all(e["id"] != low["id"] for e in stream.events)  # under the confidence threshold
        assert stream.events[0]["priority"] == "normal"

        a.post([_sighting(ind["id"], "identity--" + str(uuid.UUID(int=1)))])
        b.post([_sighting(ind["id"], "identity--" + str(uuid.UUID(int=2)))], key=soc_key)
        wait_until(lambda: any(e["priority"] == "high" for e in stream.events), 15, "a corroborated warning")
        high = next(e for e in stream.events if e["priority"] == "high")
        assert high["id"] == ind["id"] and len(high["corroborated_by"]) == 2
    finally:
        stream.close()

    wait_until(lambda: any(b"high" in body for _, body in received), 15, "the webhook deliveries")
    for headers, body in received:
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Accord-Signature"] == expected
    ids = [w["id"] for _, body in received for w in json.loads(body)["warnings"]]
    assert ind["id"] in ids and low["id"] not in ids


def test_what_warnings_tell_is_on_the_egress_record_except_clear(
        nodes: Callable[[str], Node], webhook: tuple[str, list[tuple[dict[str, str], bytes]]]) -> None:
    """A warning names an object a subscriber may read: the webhook delivery and the stream hand-out
    are recorded per recipient, as pushes and TAXII reads are; TLP:CLEAR is not."""
    b = nodes("B")
    hook_url, received = webhook
    soc_key, _ = _soc_b(b, hook_url)
    stream = Stream(b.url, soc_key)
    try:
        assert stream.connected.wait(15)
        green = indicator(11, tlp=Tlp.GREEN, confidence=80)
        clear = indicator(12, tlp=Tlp.CLEAR, confidence=80)
        b.post([green, clear])
        wait_until(lambda: {green["id"], clear["id"]} <= {e["id"] for e in stream.events}, 15, "both on the stream")
        wait_until(lambda: len(received) > 0, 15, "the webhook delivery")

        def recorded() -> dict[str, set[str]]:
            with b.store.read() as tx:
                out: dict[str, set[str]] = {}
                for e in tx.egress():
                    out.setdefault(e.peer, set()).update(i for i, _ in e.objects)
                return out

        wait_until(lambda: len(recorded()) == 2, 15, "both channels on the egress record")
        assert recorded() == {"webhook soc-b-all (soc-b)": {green["id"]}, "stream (soc-b)": {green["id"]}}
        with b.store.read() as tx:
            assert [e.action for e in tx.egress("stream (soc-b)", green["id"])] == ["early_warning.stream"]
        told = {(r.recipient, r.via, r.object_id, r.content) for r in transparency.receipts(b.store)
                if r.action.startswith("early_warning.")}
        assert told == {("soc-b", "webhook soc-b-all (soc-b)", green["id"], False),
                        ("soc-b", "stream (soc-b)", green["id"], False)}
    finally:
        stream.close()
