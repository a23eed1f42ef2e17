"""Sensor exports from the node: formats from accord.sensor.exports, content from the sharing policy."""

from __future__ import annotations

from starlette.testclient import TestClient

from accord.domain.tlp import Tlp
from accord.services import admin
from tests.conftest import Node
from tests.stixgen import TAXII, envelope, indicator
from tests.web.conftest import BASE

EXPORTS = "/exports/default/default"


def _seed(client: TestClient, node: Node) -> str:
    group = admin.create_group(node.store, "grid")
    admin.set_group_member(node.store, "grid", "energy-co", True)
    domain = indicator(3, pattern="[domain-name:value = 'c2.evil.example']")
    red = indicator(4, tlp=Tlp.RED, pattern="[ipv4-addr:value = '203.0.113.66']")
    grouped = indicator(5, markings=(group,), pattern="[ipv4-addr:value = '203.0.113.77']")
    r = client.post(BASE + "/objects/", json=envelope(indicator(1), domain, red, grouped),
                    headers={**node.auth("health-isac"), "Content-Type": TAXII})
    assert r.json()["success_count"] == 4
    return group


def test_zeek_intel_holds_what_the_reader_may_read(client: TestClient, node: Node) -> None:
    _seed(client, node)
    energy = client.get(EXPORTS + "/zeek-intel.txt", headers=node.auth("energy-co")).text
    lines = energy.splitlines()
    assert lines[0].startswith("#fields\tindicator\tindicator_type")
    values = {line.split("\t")[0]: line.split("\t")[1] for line in lines[1:]}
    assert values == {"198.51.0.1": "Intel::ADDR", "c2.evil.example": "Intel::DOMAIN",
                      "203.0.113.77": "Intel::ADDR"}  # the RED one is the owner's alone
    owner = client.get(EXPORTS + "/zeek-intel.txt", headers=node.auth("health-isac")).text
    assert "203.0.113.66" in owner
    admin_view = client.get(EXPORTS + "/zeek-intel.txt", headers=node.auth("admin")).text
    assert "203.0.113.77" not in admin_view and "203.0.113.66" not in admin_view


def test_suricata_files(client: TestClient, node: Node) -> None:
    _seed(client, node)
    h = node.auth("energy-co")
    assert client.get(EXPORTS + "/suricata/ipv4.lst", headers=h).text.split() == ["198.51.0.1", "203.0.113.77"]
    assert client.get(EXPORTS + "/suricata/domains.lst", headers=h).text.strip() == "YzIuZXZpbC5leGFtcGxl"
    assert "AccordIOC" in client.get(EXPORTS + "/suricata/reputation-categories.txt", headers=h).text
    assert "198.51.0.1,1,127" in client.get(EXPORTS + "/suricata/reputation.txt", headers=h).text
    assert client.get(EXPORTS + "/suricata/passwords.lst", headers=h).status_code == 404
    assert client.get(EXPORTS + "/suricata/ipv4.txt", headers=h).status_code == 404


def test_exports_need_a_key_and_access(client: TestClient, node: Node) -> None:
    assert client.get(EXPORTS + "/zeek-intel.txt").status_code == 401
    assert client.get(EXPORTS + "/zeek-intel.txt", headers=node.auth("outsider")).status_code == 404
