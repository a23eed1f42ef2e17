"""Notices on one node (SQLite and PostgreSQL) with a real SMTP relay on loopback (aiosmtpd,
STARTTLS): matching, the sharing policy, digests, de-duplication, acknowledgement, retries."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from accord.config import HttpSettings
from accord.domain import notices as dom
from accord.domain.model import OrgKind
from accord.domain.tlp import TLP2_MARKING_IDS, Tlp
from accord.services import admin, assets, notices, outbox
from accord.stix.timestamps import now_micros
from accord.store.repository import Store
from accord.web.app import create_app
from tests.conftest import Node
from tests.coordination.helpers import as_, sensor_objects
from tests.public.helpers import publish
from tests.public.smtp import relay

MINUTE = 60 * 1_000_000


def marked(objects: list[dict[str, Any]], tlp: Tlp) -> list[dict[str, Any]]:
    return [{**o, "object_marking_refs": [TLP2_MARKING_IDS[tlp]]} for o in objects]


def sighting(node: Node, address: str, n: int, tlp: Tlp = Tlp.GREEN) -> None:
    ws = as_(node.store, "energy-co-analyst")
    ws.write(marked(sensor_objects(ws, address, n), tlp))


def indicator(node: Node, pattern: str, n: int, tlp: Tlp = Tlp.GREEN) -> None:
    ws = as_(node.store, "health-isac-analyst")
    ws.write(marked([{"type": "indicator", "spec_version": "2.1",
                      "id": f"indicator--{n:08d}-0000-4000-8000-00000000000a",
                      "created": "2026-12-01T00:00:00.000Z", "modified": "2026-12-01T00:00:00.000Z",
                      "created_by_ref": ws.me.identity_id, "pattern": pattern, "pattern_type": "stix",
                      "valid_from": "2026-12-01T00:00:00.000Z", "indicator_types": ["malicious-activity"]}], tlp))


def register(store: Store, **extra: list[str]) -> None:
    admin.add_org(store, "food-bank", OrgKind.NONPROFIT, "FR", ())
    values = {"network": ["198.51.100.0/24"], "domain": ["food.example"], "software": ["acme:r1"],
              "contact": ["help@food.example"], **extra}
    assets.add(store, admin.principal_for(store, "admin"), "food-bank", values, language="fr")


def configure(store: Store, port: int, cafile: Path) -> None:
    notices.configure(store, admin.principal_for(store, "admin"), {
        "smtp_host": "127.0.0.1", "smtp_port": str(port), "smtp_from": "cert@host.example",
        "smtp_cafile": str(cafile), "public_url": "https://accord.example"})


def test_one_digest_in_french_deduplicated_acknowledged(node: Node, tmp_path: Path) -> None:
    store = node.store
    register(store)
    with relay(tmp_path) as smtp:
        configure(store, smtp.port, smtp.cafile)
        sighting(node, "198.51.100.7", 1)
        indicator(node, "[url:value = 'https://www.food.example/login'] OR [ipv4-addr:value = '192.0.2.1']", 2)
        sighting(node, "203.0.113.9", 3)  # nobody's
        sighting(node, "198.51.100.8", 4, Tlp.AMBER_STRICT)  # may not go to clients
        sighting(node, "198.51.100.9", 5, Tlp.RED)
        publish(store, "Update your routers")  # names acme:r1
        assert notices.run(store) == {"items": 3, "notices": 1, "sent": 1, "retrying": 0, "failed": 0}
        [(to, mail)] = smtp.messages
        assert to == ["help@food.example"] and smtp.tls == [True]
        assert mail["Subject"] == "Avis de sécurité pour food-bank : 3 constat(s) sur ce qui vous appartient"
        assert mail["Content-Language"] == "fr" and mail["From"] == "cert@host.example"
        body = mail.get_content()
        assert "L'adresse 198.51.100.7 a été vue" in body and "www.food.example figure dans une alerte" in body
        assert "Un avis public cite un logiciel que vous utilisez : acme:r1." in body
        assert "198.51.100.8" not in body and "198.51.100.9" not in body and "203.0.113.9" not in body
        link = re.search(r"https://accord\.example(/public/notices/(notice--[0-9a-f-]+)\?t=([0-9a-f]+))", body)
        assert link is not None
        sighting(node, "198.51.100.7", 6)  # the same address again, before anybody acknowledged
        assert notices.run(store)["notices"] == 0 and len(smtp.messages) == 1
    host = admin.principal_for(store, "admin")
    [listed] = notices.for_partner(store, host, unacknowledged=True)
    assert listed["org"] == "food-bank" and listed["messages"] == [{"channel": "email", "state": "sent", "attempts": 1}]
    assert {(i["reason"], i["value"], i["count"]) for i in listed["items"]} == {
        ("sighting", "198.51.100.7", 2), ("indicator", "www.food.example", 1), ("advisory", "acme:r1", 1)}
    assert notices.for_partner(store, admin.principal_for(store, "energy-co-analyst")) == []  # not its client
    path, notice_id, token = link.groups()
    with TestClient(create_app(store, HttpSettings(public_rate=0))) as client:
        page = client.get(path)
        assert page.status_code == 200 and "J&#39;ai reçu cet avis" in page.text
        assert notices.for_partner(store, host, unacknowledged=True) != []  # a GET records nothing
        assert client.get(f"/public/notices/{notice_id}?t={'0' * 32}").status_code == 404
        assert client.post(f"/public/notices/{notice_id}", data={"t": token[:-1] + "x"}).status_code == 404
        hostile = client.post("/public/notices/R%C3%9D", content=b"t=%1B%F2%A7%8F%BA%C2%9B",
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert hostile.status_code == 404  # schemathesis found it: a token that is no ASCII answered 500
        assert client.get(f"/public/notices/{notice_id}", params={"t": "é" * 32}).status_code == 404
        done = client.post(f"/public/notices/{notice_id}", data={"t": token})
        assert done.status_code == 200 and "votre réception est enregistrée" in done.text
        assert client.post(f"/public/notices/{notice_id}", data={"t": token}).status_code == 200  # once is enough
        api = client.get("/accord/notices", params={"unacknowledged": "true"}, headers={
            "Authorization": f"Bearer {node.admin_key}"})
        assert api.status_code == 200 and api.json() == []
        assert client.get("/accord/notices").status_code == 401
    assert notices.for_partner(store, host, unacknowledged=True) == []
    with store.read() as tx:
        actions = [r.action for r, _ in tx.audit_records() if r.action.startswith("notice.")]
    assert actions.count("notice.acknowledged") == 1 and actions.count("notice.created") == 1
    sighting(node, "198.51.100.7", 7)  # after the acknowledgement: news again
    notices.scan(store)
    assert len(notices.digest(store)) == 1


def test_relay_down_then_up_bounded_retries_and_no_clear_text(node: Node, tmp_path: Path) -> None:
    store = node.store
    register(store)
    with relay(tmp_path) as smtp:
        port, cafile = smtp.port, smtp.cafile
    configure(store, port, cafile)  # nothing listens there now
    sighting(node, "198.51.100.7", 1)
    t0 = now_micros()
    assert notices.run(store, t0)["retrying"] == 1
    [m] = store_outbox(store)
    assert (m.state, m.attempts) == ("pending", 1) and "ConnectionRefusedError" in (m.last_error or "")
    assert outbox.deliver(store, t0 + 30 * 1_000_000).sent == 0  # not due before its back-off
    with relay(tmp_path, port=port) as smtp:
        assert outbox.deliver(store, t0 + 2 * MINUTE).sent == 1
        assert len(smtp.messages) == 1
    with relay(tmp_path, starttls=False) as plain:
        configure(store, plain.port, plain.cafile)
        sighting(node, "198.51.100.8", 2)
        notices.scan(store)
        notices.digest(store)
        at = t0
        for _ in range(dom.MAX_ATTEMPTS):
            at += 200 * MINUTE
            outbox.deliver(store, at)
        assert plain.messages == []  # never in clear text
    failed = [m for m in store_outbox(store) if m.state == "failed"]
    assert len(failed) == 1 and failed[0].attempts == dom.MAX_ATTEMPTS and "STARTTLS" in (failed[0].last_error or "")


def store_outbox(store: Store) -> list[Any]:
    with store.read() as tx:
        return tx.outbox()


def test_webhook_gets_the_digest_as_json(node: Node, tmp_path: Path) -> None:
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    got: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        register(node.store, contact=[], webhook=[f"http://127.0.0.1:{server.server_port}/hook"])
        sighting(node, "198.51.100.7", 1)
        assert notices.run(node.store)["sent"] == 1
        [payload] = got
        assert payload["organisation"] == "food-bank" and payload["language"] == "fr"
        assert payload["items"] == [{"reason": "sighting", "value": "198.51.100.7", "count": 1}]
        assert "/public/notices/notice--" in payload["text"]
    finally:
        server.shutdown()


@pytest.mark.parametrize(("pattern", "expected"), [
    ("[domain-name:value = 'a.example']", ["a.example"]),
    ("[url:value = 'http://b.example:8080/x?y=1']", ["b.example"]),
    ("[email-addr:value = 'boss@c.example'] AND [ipv6-addr:value = '2001:db8::1']", ["c.example", "2001:db8::1"]),
    ("[file:name = 'a.example']", []),
    ("[domain-name:value = 'it\\'s.example']", ["it's.example"]),
])
def test_pattern_values(pattern: str, expected: list[str]) -> None:
    assert dom.pattern_values(pattern) == expected


def test_tokens_and_back_off() -> None:
    token = dom.sign(b"k" * 32, "notice--1")
    assert dom.valid(b"k" * 32, "notice--1", token) and not dom.valid(b"k" * 32, "notice--2", token)
    assert not dom.valid(b"j" * 32, "notice--1", token)
    assert [dom.retry_delay(n) for n in (1, 2, 3, dom.MAX_ATTEMPTS)] == [60, 120, 240, None]
