"""Trust issue, defect 6: a hidden newer version hides the older ones on every read path (sharing
rule 5 in docs/sharing.md, rule 6 in accord.domain.sharing). On the code before, with v1 GREEN and
v2 RED another organisation got 404 on the object while ``versions/``, ``match[version]=all`` and
``first`` still listed v1, the manifest counted it and federation would push it."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from accord.domain.sharing import Agreement, Reader, Visibility, may_forward, may_read
from accord.domain.tlp import Tlp
from accord.store.objects import ObjectFilter, VersionFilter
from tests.conftest import Node
from tests.stixgen import TAXII, indicator
from tests.web.conftest import BASE

V1 = "2026-01-01T00:00:00.000Z"
V2 = "2026-02-01T00:00:00.000Z"


def _post(client: TestClient, node: Node, who: str, *objects: dict[str, Any]) -> None:
    r = client.post(BASE + "/objects/", json={"objects": list(objects)},
                    headers={**node.auth(who), "Content-Type": TAXII, "Accept": TAXII})
    assert r.status_code == 202 and r.json()["success_count"] == len(objects), r.text


def _get(client: TestClient, node: Node, who: str, path: str, **params: Any) -> Any:
    return client.get(BASE + path, params=params, headers={**node.auth(who), "Accept": TAXII})


@pytest.fixture
def narrowed(client: TestClient, node: Node) -> str:
    """energy-co shares v1 as GREEN, then narrows the object to RED in v2."""
    _post(client, node, "energy-co", indicator(1, tlp=Tlp.GREEN, modified=V1),
          indicator(1, tlp=Tlp.RED, modified=V2, pattern="[ipv4-addr:value = '203.0.113.200']"))
    return str(indicator(1)["id"])


def test_every_taxii_read_path_hides_the_older_version(client: TestClient, node: Node, narrowed: str) -> None:
    absent = str(indicator(999)["id"])
    for params in ({}, {"match[version]": "all"}, {"match[version]": "first"}, {"match[version]": V1},
                   {"match[id]": narrowed, "match[version]": "all"}):
        assert _get(client, node, "health-isac", "/objects/", **params).json() == {}, params
        assert _get(client, node, "health-isac", "/manifest/", **params).json() == {}, params
    # versions/ takes no match[version] (TAXII 2.1 section 5.8)
    for path, choices in ((f"/objects/{narrowed}/", ({}, {"match[version]": "all"}, {"match[version]": V1})),
                          (f"/objects/{narrowed}/versions/", ({},))):
        for params in choices:
            hidden = _get(client, node, "health-isac", path, **params)
            missing = _get(client, node, "health-isac", path.replace(narrowed, absent), **params)
            assert hidden.status_code == missing.status_code == 404, (path, params)
            assert hidden.text.replace(narrowed, "X") == missing.text.replace(absent, "X")


def test_the_owner_still_reads_its_whole_history(client: TestClient, node: Node, narrowed: str) -> None:
    versions = _get(client, node, "energy-co", f"/objects/{narrowed}/versions/").json()["versions"]
    assert versions == [V1, V2]


def test_widening_shows_the_new_version_alone(client: TestClient, node: Node) -> None:
    _post(client, node, "energy-co", indicator(2, tlp=Tlp.RED, modified=V1), indicator(2, tlp=Tlp.GREEN, modified=V2))
    oid = indicator(2)["id"]
    assert _get(client, node, "health-isac", f"/objects/{oid}/versions/").json()["versions"] == [V2]
    every = _get(client, node, "health-isac", "/objects/", **{"match[version]": "all"}).json()["objects"]
    assert [o["modified"] for o in every] == [V2]


def test_sensor_exports_leave_out_the_older_version(client: TestClient, node: Node, narrowed: str) -> None:
    intel = client.get("/exports/default/default/zeek-intel.txt", headers=node.auth("health-isac")).text
    assert "198.51.0.1" not in intel and "203.0.113.200" not in intel
    own = client.get("/exports/default/default/zeek-intel.txt", headers=node.auth("energy-co")).text
    assert "203.0.113.200" in own


def test_store_rows_carry_the_latest_visibility_for_federation(node: Node, client: TestClient,
                                                               narrowed: str) -> None:
    with node.store.read() as tx:
        collection = tx.find_collection(tx.get_api_root("default").id, "default")
        scanned = tx.scan(collection.id, ObjectFilter(versions=VersionFilter(all=True)), None, 10)
        outbound = [r for r in tx.outbound(0, 100) if r.id == narrowed]
    for rows in (scanned, outbound):
        older = next(r for r in rows if r.visibility.tlp is Tlp.GREEN)
        assert older.visibility.latest is not None and older.visibility.latest.tlp is Tlp.RED
        green_peer = Agreement(frozenset({Tlp.CLEAR, Tlp.GREEN}))
        assert not may_forward(green_peer, older.visibility, originated_here=True)
        newest = next(r for r in rows if r.visibility.tlp is Tlp.RED)
        assert newest.visibility.latest is None


def test_rule_six_in_the_domain() -> None:
    red = Visibility(1, Tlp.RED)
    older = Visibility(1, Tlp.GREEN, latest=red)
    assert not may_read(Reader(2), older) and may_read(Reader(1), older)
    assert may_read(Reader(2), Visibility(1, Tlp.GREEN, latest=Visibility(1, Tlp.CLEAR)))
    assert not may_read(Reader(2), Visibility(1, Tlp.RED, latest=Visibility(1, Tlp.GREEN)))
    assert may_forward(Agreement(), Visibility(1, Tlp.GREEN, latest=Visibility(1, Tlp.CLEAR)), True)
    assert not may_forward(Agreement(), Visibility(1, Tlp.GREEN, latest=Visibility(1, Tlp.AMBER_STRICT)), True)
