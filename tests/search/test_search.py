"""The search service on both backends: each query kind, CIDR edges, parent domains, correlation,
and the index kept in step with new versions, revocation, deletion and purges."""

from __future__ import annotations

import pytest

from accord.domain.errors import InvalidInput
from accord.domain.tlp import TLP2_MARKING_IDS, Tlp
from accord.services import admin
from accord.services import objects as objects_svc
from accord.services import search as svc
from accord.store.objects import ObjectFilter
from tests.conftest import Node
from tests.privacy.helpers import root_of
from tests.search.helpers import T, found, pattern_indicator, post, sco, sdo


def test_an_address_finds_the_indicators_whose_block_holds_it(node: Node) -> None:
    s = node.store
    net = pattern_indicator("[ipv4-addr:value = '203.0.113.0/24']")
    exact = pattern_indicator("[ipv4-addr:value = '203.0.113.5']")
    other = pattern_indicator("[ipv4-addr:value = '203.0.114.0/24']")
    wide = pattern_indicator("[ipv4-addr:value ISSUBSET '0.0.0.0/0']")
    post(s, "energy-co-analyst", [net, exact, other, wide])
    hits = found(s, "health-isac-analyst", "anything on 203.0.113.5?")
    assert set(hits) == {net["id"], exact["id"], wide["id"]}
    assert hits[net["id"]].reasons == ["pattern covers 203.0.113.5 (203.0.113.0/24)"]
    assert hits[net["id"]].origin == ["energy-co"]


@pytest.mark.parametrize(("address", "inside"), [
    ("198.51.100.0", True), ("198.51.100.255", True), ("198.51.99.255", False), ("198.51.101.0", False)])
def test_network_and_broadcast_addresses_are_inside_their_block(node: Node, address: str, inside: bool) -> None:
    block = pattern_indicator("[ipv4-addr:value = '198.51.100.0/24']")
    post(node.store, "energy-co-analyst", [block])
    assert (block["id"] in found(node.store, "energy-co-analyst", address)) is inside


def test_a_slash_32_is_one_address_and_ipv6_blocks_hold_their_addresses(node: Node) -> None:
    s = node.store
    one = pattern_indicator("[ipv4-addr:value = '192.0.2.7/32']")
    v6 = pattern_indicator("[ipv6-addr:value = '2001:db8:abcd::/48']")
    v6_all = pattern_indicator("[ipv6-addr:value = '::/0']")
    post(s, "energy-co-analyst", [one, v6, v6_all])
    assert set(found(s, "energy-co-analyst", "192.0.2.7")) == {one["id"]}
    assert found(s, "energy-co-analyst", "192.0.2.8") == {}
    assert set(found(s, "energy-co-analyst", "2001:db8:abcd:12::1")) == {v6["id"], v6_all["id"]}
    assert set(found(s, "energy-co-analyst", "2001:db8:abce::1")) == {v6_all["id"]}
    # a block query finds what is inside it as well as what holds it
    assert set(found(s, "energy-co-analyst", "192.0.2.0/24")) == {one["id"]}


def test_a_domain_matches_its_parents_and_subdomains(node: Node) -> None:
    s = node.store
    parent = pattern_indicator("[domain-name:value = 'example.com']")
    url = pattern_indicator("[url:value = 'https://b.example.com/login']")
    unrelated = pattern_indicator("[domain-name:value = 'example.org']")
    sub = pattern_indicator("[domain-name:value = 'x.a.b.example.com']")
    post(s, "energy-co-analyst", [parent, url, unrelated, sub])
    hits = found(s, "energy-co-analyst", "a.b.example.com")
    assert set(hits) == {parent["id"], url["id"], sub["id"]}
    assert hits[parent["id"]].reasons == ["parent domain example.com of a.b.example.com"]
    assert "notexample.com" not in " ".join(found(s, "energy-co-analyst", "notexample.com"))


@pytest.mark.parametrize("digest", ["d41d8cd98f00b204e9800998ecf8427e", "da39a3ee5e6b4b0d3255bfef95601890afd80709",
                                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                                    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
                                    "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"])
def test_hashes_of_every_kind_in_patterns_and_file_observables(node: Node, digest: str) -> None:
    s = node.store
    algo = {32: "MD5", 40: "SHA-1", 64: "SHA-256", 128: "SHA-512"}[len(digest)]
    ind = pattern_indicator(f"[file:hashes.'{algo}' = '{digest}']")
    file = sco("file", name="setup.exe", hashes={algo: digest})
    post(s, "energy-co-analyst", [ind, file])
    hits = found(s, "energy-co-analyst", digest.upper())
    assert set(hits) == {ind["id"], file["id"]}
    assert hits[file["id"]].group == "observable" and hits[file["id"]].reasons == [f"{algo} {digest}"]


def test_attack_ids_and_free_text(node: Node) -> None:
    s = node.store
    technique = sdo("attack-pattern", name="Unauthorized Command Message",
                    external_references=[{"source_name": "mitre-ics-attack", "external_id": "T0855"}])
    report = sdo("report", name="Grid outage", description="Operators saw unauthorised breaker commands",
                 published=T, object_refs=[technique["id"]])
    post(s, "energy-co-analyst", [technique, report])
    assert set(found(s, "energy-co-analyst", "t0855")) == {technique["id"], report["id"]}
    assert found(s, "energy-co-analyst", "t0855")[report["id"]].reasons == [f"references {technique['id']}"]
    assert set(found(s, "energy-co-analyst", "breaker command")) == {report["id"]}  # stemmed: commands
    assert found(s, "energy-co-analyst", "breaker photosynthesis") == {}


def test_results_are_correlated_with_readable_sightings(node: Node) -> None:
    s = node.store
    with s.read() as tx:
        health = tx.get_org("health-isac").identity_id
    ind = pattern_indicator("[ipv4-addr:value = '203.0.113.0/24']", confidence=60)
    post(s, "energy-co-analyst", [ind])
    seen = sdo("sighting", sighting_of_ref=ind["id"], where_sighted_refs=[health], first_seen="2026-02-01T00:00:00Z",
               last_seen="2026-02-03T00:00:00Z", confidence=85)
    hidden = sdo("sighting", sighting_of_ref=ind["id"], first_seen="2025-01-01T00:00:00Z",
                 object_marking_refs=[TLP2_MARKING_IDS[Tlp.RED]])
    post(s, "health-isac-analyst", [seen, hidden])
    hit = found(s, "energy-co-analyst", "203.0.113.9")[ind["id"]]
    assert (hit.partners, hit.sightings, hit.confidence) == (["health-isac"], 1, 85)
    assert (hit.first_seen, hit.last_seen) == ("2026-01-01T00:00:00Z", "2026-02-03T00:00:00Z")
    mine = found(s, "health-isac-analyst", "203.0.113.9")
    assert mine[ind["id"]].sightings == 2 and mine[ind["id"]].first_seen == "2025-01-01T00:00:00Z"
    assert {seen["id"], hidden["id"]} <= set(mine)


def test_incidents_related_by_a_relationship(node: Node) -> None:
    s = node.store
    ind = pattern_indicator("[domain-name:value = 'evil.example.net']")
    incident = sdo("incident", name="Pump station intrusion")
    rel = sdo("relationship", relationship_type="related-to", source_ref=incident["id"], target_ref=ind["id"])
    post(s, "energy-co-analyst", [ind, incident, rel])
    hits = found(s, "health-isac-analyst", "evil.example.net")
    assert hits[incident["id"]].group == "incident" and hits[incident["id"]].reasons == ["related by a relationship"]
    assert rel["id"] not in hits


def test_hidden_objects_are_not_shown_counted_or_correlated(node: Node) -> None:
    s = node.store
    red = pattern_indicator("[ipv4-addr:value = '203.0.113.0/24']", object_marking_refs=[TLP2_MARKING_IDS[Tlp.RED]])
    post(s, "energy-co-analyst", [red])
    assert found(s, "health-isac-analyst", "203.0.113.1") == {}
    assert found(s, "outsider-analyst", "203.0.113.1") == {}  # no access to the collection at all
    assert set(found(s, "energy-co-analyst", "203.0.113.1")) == {red["id"]}


def test_the_index_follows_new_versions_revocation_and_deletion(node: Node) -> None:
    s = node.store
    v1 = pattern_indicator("[ipv4-addr:value = '192.0.2.1']")
    post(s, "energy-co-analyst", [v1])
    v2 = {**v1, "modified": "2026-03-01T00:00:00.000Z", "pattern": "[ipv4-addr:value = '192.0.2.2']"}
    post(s, "energy-co-analyst", [v2])
    assert found(s, "energy-co-analyst", "192.0.2.1") == {}
    assert set(found(s, "energy-co-analyst", "192.0.2.2")) == {v1["id"]}
    v3 = {**v2, "modified": "2026-04-01T00:00:00.000Z", "revoked": True}
    post(s, "energy-co-analyst", [v3])
    assert found(s, "energy-co-analyst", "192.0.2.2") == {}
    other = pattern_indicator("[ipv4-addr:value = '192.0.2.3']")
    post(s, "energy-co-analyst", [other])
    principal = admin.principal_for(s, "energy-co-analyst")
    objects_svc.delete_object(s, principal, root_of(s), "default", other["id"], ObjectFilter())
    assert found(s, "energy-co-analyst", "192.0.2.3") == {}
    from accord.store.tables import search_addresses
    with s.read() as tx:  # nothing of the deleted object is left behind
        rows = tx.conn.execute(search_addresses.select()).all()
    assert len(rows) == 2  # v1 and v2 (older versions stay indexed, searches keep latest versions only)


def test_reindex_rebuilds_the_same_index(node: Node) -> None:
    s = node.store
    post(s, "energy-co-analyst", [pattern_indicator("[ipv4-addr:value = '192.0.2.0/28']", description="beacon"),
                                  sco("domain-name", value="c2.example.com")])
    before = found(s, "energy-co-analyst", "192.0.2.4 beacon c2.example.com")
    done: list[int] = []
    assert svc.reindex(s, done.append, batch=1) == 2
    assert sum(done) >= 2
    assert found(s, "energy-co-analyst", "192.0.2.4 beacon c2.example.com").keys() == before.keys()
    assert len(before) == 2


@pytest.mark.parametrize("query", [
    "'; DROP TABLE objects; --", '" OR 1=1 --', "NEAR(a b)", "body:secret*", "a AND OR NOT", "^x", "*", '"""',
    "(((((", "\u202etxet", "Ünïcödé 東京 ☃", "x" * 500, "%_%", "\\", "1.2.3.4/99", "::ffff:1.2.3.4",
    "999.1.1.1", "-", "a..b.com", "xn--bcher-kva.example"])
def test_hostile_queries_are_searches_or_clear_errors(node: Node, query: str) -> None:
    s = node.store
    post(s, "energy-co-analyst", [pattern_indicator("[ipv4-addr:value = '192.0.2.1']", description="secret body")])
    try:
        hits = found(s, "energy-co-analyst", query)
    except InvalidInput as exc:
        assert "search" in exc.message
        return
    assert all(h.id.startswith("indicator--") for h in hits.values())
    with s.read() as tx:
        assert tx.count_objects() == 1


@pytest.mark.parametrize(("query", "message"), [("a\x00b", "NUL"), ("x " * 300, "longer than"), ("   ", "empty"),
                                                ("?!", "empty"), (" ".join(f"w{n}" for n in range(20)), "terms")])
def test_bad_queries_say_why(node: Node, query: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        svc.search(node.store, admin.principal_for(node.store, "energy-co-analyst"), query)


def test_searches_on_postgresql_are_planned_for_their_values(node: Node) -> None:
    """A generic plan (psycopg prepares a statement run five times) scans every tsvector: the search's
    transaction asks for custom plans, and only it (bench/search.py, docs/search.md)."""
    from accord.store import search as index

    s = node.store
    if s.engine.dialect.name != "postgresql":
        pytest.skip("plan_cache_mode is PostgreSQL's")
    with s.read() as tx:
        index.begin_search(tx.conn)
        assert tx.conn.exec_driver_sql("SHOW plan_cache_mode").scalar_one() == "force_custom_plan"
    with s.read() as tx:
        assert tx.conn.exec_driver_sql("SHOW plan_cache_mode").scalar_one() == "auto"
