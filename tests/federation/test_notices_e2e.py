"""End to end on real processes (issue 18): a sensor's sighting at node A of an address in a
nonprofit's range registered at node B produces exactly one notice e-mail in B's language (the
organisation's, French), received by a real SMTP server over STARTTLS, and its acknowledgement link
works: B's covering partner no longer lists the notice as unacknowledged."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from accord.domain.model import OrgKind
from accord.domain.tlp import TLP2_MARKING_IDS, Tlp
from accord.services import admin, assets, notices
from tests.federation.cluster import Node, link, wait_until
from tests.public.smtp import relay

pytestmark = pytest.mark.e2e
GREEN = [TLP2_MARKING_IDS[Tlp.GREEN]]


def sighting_of(address: str) -> list[dict[str, object]]:
    """What a sensor at A posts: the address, the observation, the sighting (TLP:GREEN)."""
    at = "2026-12-05T10:00:00.000Z"
    sco = {"type": "ipv4-addr", "spec_version": "2.1", "id": "ipv4-addr--6c8c2b7e-5d4f-4c5e-9a1f-0e7a0b1c2d3e",
           "value": address, "object_marking_refs": GREEN}
    observed = {"type": "observed-data", "spec_version": "2.1",
                "id": "observed-data--6c8c2b7e-5d4f-4c5e-9a1f-0e7a0b1c2d3f", "created": at, "modified": at,
                "first_observed": at, "last_observed": at, "number_observed": 12, "object_refs": [sco["id"]],
                "object_marking_refs": GREEN}
    seen = {"type": "sighting", "spec_version": "2.1", "id": "sighting--6c8c2b7e-5d4f-4c5e-9a1f-0e7a0b1c2d40",
            "created": at, "modified": at, "sighting_of_ref": "indicator--6c8c2b7e-5d4f-4c5e-9a1f-0e7a0b1c2d41",
            "count": 12, "first_seen": at, "last_seen": at, "observed_data_refs": [observed["id"]],
            "object_marking_refs": GREEN}
    return [sco, observed, seen]


def test_a_sighting_at_a_becomes_one_french_notice_mail_at_b(
        nodes: Callable[[str], Node], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_NOTICE_SECONDS", "0.5")  # the served nodes' periodic notice runs
    with relay(tmp_path) as smtp:
        a, b = nodes("A"), nodes("B")
        link(a, b)
        host = admin.principal_for(b.store, "admin")
        admin.add_org(b.store, "food-bank", OrgKind.NONPROFIT, "FR", ())
        assets.add(b.store, host, "food-bank", {"network": ["198.51.100.0/24"], "contact": ["help@food.example"]},
                   language="fr")
        notices.configure(b.store, host, {"smtp_host": "127.0.0.1", "smtp_port": str(smtp.port),
                                          "smtp_from": "cert@b.example", "smtp_cafile": str(smtp.cafile),
                                          "public_url": b.url})
        a.post(sighting_of("198.51.100.23"))
        took = wait_until(lambda: len(smtp.messages) > 0, 60, "the notice e-mail from B")
        time.sleep(3)  # several more periodic runs at B (and A, which has no assets): nothing more is sent
        assert len(smtp.messages) == 1, [m["Subject"] for _, m in smtp.messages]
        [(to, mail)] = smtp.messages
        assert to == ["help@food.example"] and smtp.tls == [True]
        assert mail["Subject"].startswith("Avis de sécurité pour food-bank") and mail["Content-Language"] == "fr"
        body = mail.get_content()
        assert "L'adresse 198.51.100.23 a été vue participer à une activité malveillante (1 fois" in body
        found = re.search(re.escape(b.url) + r"/public/notices/(notice--[0-9a-f-]+)\?t=([0-9a-f]+)", body)
        assert found is not None, body
        notice_id, token = found.groups()
        [listed] = notices.for_partner(b.store, host, unacknowledged=True)
        assert listed["id"] == notice_id and listed["messages"][0]["state"] == "sent"
        page = httpx.get(found.group(0), timeout=10)
        assert page.status_code == 200 and "J&#39;ai reçu cet avis" in page.text
        done = httpx.post(f"{b.url}/public/notices/{notice_id}", data={"t": token}, timeout=10)
        assert done.status_code == 200 and "votre réception est enregistrée" in done.text
        api = httpx.get(f"{b.url}/accord/notices", params={"unacknowledged": "true"},
                        headers={"Authorization": f"Bearer {b.admin_key}"}, timeout=10)
        assert api.status_code == 200 and api.json() == []
        assert notices.for_partner(b.store, host)[0]["acknowledged"] is not None
        print(f"\nnotice e-mail received {took:.1f} s after the sighting was posted at A")
