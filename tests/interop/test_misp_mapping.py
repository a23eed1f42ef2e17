"""The hand mapping misp-stix lacks: distribution, sharing groups and TLP tags never widen (pure)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.domain.tlp import TLP2_MARKING_IDS, Tlp, tlp_of
from accord.interop.misp import convert as conv
from accord.interop.misp import mapping
from accord.interop.misp.mapping import OWNER_ONLY, Reach
from tests.interop.misp_events import ICS_ISAC, as_dict, event, sighting


@pytest.mark.parametrize(("tags", "level"), [
    ([], None), (["tlp:clear"], Tlp.CLEAR), (["tlp:white"], Tlp.CLEAR), (["TLP:GREEN"], Tlp.GREEN),
    (["tlp:amber"], Tlp.AMBER), (["tlp:amber+strict"], Tlp.AMBER_STRICT), (["tlp:red"], Tlp.RED),
    (["tlp:green", "tlp:red"], Tlp.RED), (["tlp:ex:chr"], Tlp.RED), (["PAP:GREEN", "osint:source-type=\"blog\""], None),
])
def test_tlp_tags(tags: list[str], level: Tlp | None) -> None:
    assert mapping.tlp_of_tags(tags) is level


@pytest.mark.parametrize(("distribution", "tag", "level"), [
    (0, "tlp:clear", Tlp.RED), (1, "tlp:clear", Tlp.AMBER), (2, "tlp:clear", Tlp.GREEN), (3, "tlp:clear", Tlp.CLEAR),
    (3, None, Tlp.AMBER), (1, "tlp:red", Tlp.RED), (None, "tlp:green", Tlp.GREEN), ("2", "tlp:clear", Tlp.GREEN),
    (5, "tlp:green", Tlp.GREEN), ("nonsense", "tlp:green", Tlp.GREEN),
])
def test_event_reach(distribution: Any, tag: str | None, level: Tlp) -> None:
    element: dict[str, Any] = {"Tag": [{"name": tag}] if tag else []}
    if distribution is not None:
        element["distribution"] = distribution
    assert mapping.reach_of(element, None) == Reach(level, OWNER_ONLY if distribution == 0 else None)


def test_sharing_groups_narrow_and_conflict() -> None:
    grid = mapping.reach_of({"distribution": 4, "SharingGroup": {"name": "grid"}, "Tag": [{"name": "tlp:green"}]}, None)
    assert grid == Reach(Tlp.RED, "grid")
    assert mapping.reach_of({"distribution": 5}, grid) == grid  # inherits
    assert mapping.reach_of({"distribution": 4, "SharingGroup": {"name": "water"}}, grid) == Reach(Tlp.RED, OWNER_ONLY)
    assert mapping.reach_of({"distribution": 4}, None).group == OWNER_ONLY  # a group MISP did not name
    assert mapping.reach_of({"distribution": 0}, grid) == Reach(Tlp.RED, OWNER_ONLY)  # "your organisation only"
    assert mapping.reach_of({"Tag": [{"name": "tlp:clear"}]}, Reach(Tlp.AMBER)) == Reach(Tlp.AMBER)


def _levels(objects: list[dict[str, Any]]) -> dict[str, Tlp | None]:
    return {o["id"]: tlp_of(o.get("object_marking_refs", [])) for o in objects if o["type"] != "marking-definition"}


def test_an_attribute_never_reads_wider_than_its_event() -> None:
    """misp-stix marks a tlp:clear attribute of a tlp:red event CLEAR and leaves observables unmarked."""
    e = event(tlp="tlp:red")
    e.add_attribute("ip-dst", "198.51.100.7", to_ids=True).add_tag("tlp:clear")
    e.add_attribute("domain", "evil.example", to_ids=False)
    done = conv.convert(as_dict(e), "e.json")
    levels = _levels(done.objects)
    assert {o["type"] for o in done.objects} >= {"indicator", "ipv4-addr", "domain-name", "observed-data", "grouping"}
    assert set(levels.values()) == {Tlp.RED}
    assert not [o for o in done.objects if o["type"] == "marking-definition"]  # the node knows the TLP ids


def test_only_to_ids_attributes_become_indicators() -> None:
    e = event()
    wanted = e.add_attribute("ip-dst", "198.51.100.7", to_ids=True)
    quiet = e.add_attribute("ip-dst", "198.51.100.8", to_ids=False)
    done = conv.convert(as_dict(e), "e.json")
    indicators = {o["id"] for o in done.objects if o["type"] == "indicator"}
    assert indicators == {f"indicator--{wanted.uuid}"}
    assert f"observed-data--{quiet.uuid}" in {o["id"] for o in done.objects}


def test_sightings_keep_their_organisation_and_target() -> None:
    e = event()
    a = e.add_attribute("ip-dst", "198.51.100.7", to_ids=True)
    a.sightings.append(sighting(ICS_ISAC))
    a.sightings.append(sighting(ICS_ISAC, kind="2"))  # expiration: no STIX counterpart
    first = conv.convert(as_dict(e), "e.json")
    again = conv.convert(as_dict(e), "e.json")
    sightings = [o for o in first.objects if o["type"] == "sighting"]
    assert len(sightings) == 1
    assert sightings[0]["sighting_of_ref"] == f"indicator--{a.uuid}"
    assert sightings[0]["created_by_ref"] == f"identity--{ICS_ISAC[1]}"
    assert sightings[0]["id"] == next(o["id"] for o in again.objects if o["type"] == "sighting")  # stable
    assert tlp_of(sightings[0]["object_marking_refs"]) is Tlp.AMBER


def test_attack_clusters_carry_their_technique_id() -> None:
    e = as_dict(event())
    e["Event"]["Galaxy"] = [{"type": "mitre-attack-pattern", "name": "Attack Pattern", "GalaxyCluster": [
        {"type": "mitre-attack-pattern", "value": "Unauthorized Command Message - T0855",
         "uuid": "40b300ba-f553-48bf-862e-9471b220d455", "description": "ICS technique"}]}]
    done = conv.convert(e, "e.json")
    pattern = next(o for o in done.objects if o["type"] == "attack-pattern")
    assert pattern["id"] == "attack-pattern--40b300ba-f553-48bf-862e-9471b220d455"
    assert {"source_name": "mitre-attack", "external_id": "T0855"} in pattern["external_references"]
    grouping = next(o for o in done.objects if o["type"] == "grouping")
    assert pattern["id"] in grouping["object_refs"]


@pytest.mark.parametrize(("raw", "why"), [
    (b"{not json", "not valid JSON"), (b'{"Event": []}', "not a MISP event"), (b"[]", "not a MISP event"),
    (b'{"Event": {"uuid": "../../etc/passwd", "info": "x"}}', "no valid uuid"),
    (b'{"Event": {"uuid": "2b4c92bf-5fe4-430d-8e11-d5b52f45c20a", "info": 7}}', "'info' is not a string"),
])
def test_unreadable_events_are_refused_whole(raw: bytes, why: str) -> None:
    with pytest.raises(conv.BadEvent, match=why) as caught:
        conv.convert(raw, "bad.json")
    assert str(caught.value).startswith("bad.json")


def test_bad_attributes_are_named_and_the_rest_converted() -> None:
    e = as_dict(event())
    good = {"type": "ip-dst", "value": "198.51.100.7", "to_ids": True, "uuid": "72dbd609-672a-4e38-a4b6-ff876705c35c"}
    e["Event"]["Attribute"] = [good, "text", {"type": "ip-dst", "value": "x", "uuid": "nope"},
                               {"type": "text", "value": "a\x00b", "uuid": "d2c5e2b4-7a3d-4c56-9d1e-2f1b0c9a8e71"},
                               {"type": "ip-dst", "value": None, "uuid": "e2c5e2b4-7a3d-4c56-9d1e-2f1b0c9a8e71"},
                               {"type": "ip-dst", "value": "1.2.3.4", "uuid": "f2c5e2b4-7a3d-4c56-9d1e-2f1b0c9a8e71",
                                "Tag": "tlp:clear"}]
    done = conv.convert(e, "e.json")
    assert done.attributes == 1
    where = f"e.json: event {e['Event']['uuid']}: attribute"
    assert [p.split(": ")[-1] for p in done.problems if p.startswith(where)] == [
        "not an object", "no valid uuid", "a value longer than 131072 characters or with a NUL character",
        "no value", "'Tag' is not a list"]
    assert "indicator--72dbd609-672a-4e38-a4b6-ff876705c35c" in {o["id"] for o in done.objects}


def test_sniffing_an_event_file() -> None:
    assert conv.is_misp_event(b' {\n  "Event": {"uuid": 1}}')
    assert not conv.is_misp_event(b'{"type": "bundle", "Event": 1}')
    assert not conv.is_misp_event(b"value\n1.2.3.4\n")


_LEVEL_TAGS = st.sampled_from([None, "tlp:clear", "tlp:white", "tlp:green", "tlp:amber", "tlp:amber+strict",
                               "tlp:red", "tlp:ex:chr"])


_DIST_FLOOR = {None: Tlp.CLEAR, 0: Tlp.RED, 1: Tlp.AMBER, 2: Tlp.GREEN, 3: Tlp.CLEAR, 5: Tlp.CLEAR}


@given(event_tag=_LEVEL_TAGS, event_dist=st.sampled_from([None, 0, 1, 2, 3]),
       attrs=st.lists(st.tuples(_LEVEL_TAGS, st.sampled_from([None, 0, 1, 2, 3, 5]), st.booleans()),
                      min_size=1, max_size=4))
def test_no_object_reads_wider_than_its_event_or_attribute_says(
        event_tag: str | None, event_dist: int | None, attrs: list[tuple[str | None, int | None, bool]]) -> None:
    """Whatever the tags and distributions, each object is at least as narrow as every TLP tag and
    distribution that applies to it (checked here from the table, not from the mapping's code)."""
    e = event(tlp=event_tag, distribution=event_dist)
    event_floor = max(mapping.tlp_of_tags([event_tag]) if event_tag else Tlp.AMBER, _DIST_FLOOR[event_dist])
    floors: dict[str, Tlp] = {}
    for n, (tag, dist, to_ids) in enumerate(attrs):
        a = e.add_attribute("ip-dst", f"198.51.100.{n + 1}", to_ids=to_ids,
                            **({} if dist is None else {"distribution": dist}))
        if tag:
            a.add_tag(tag)
        floors[a.uuid] = max(event_floor, mapping.tlp_of_tags([tag]) if tag else Tlp.CLEAR, _DIST_FLOOR[dist])
    done = conv.convert(as_dict(e), "e.json")
    assert done.objects
    for obj in done.objects:
        level = tlp_of(obj["object_marking_refs"])
        assert obj["object_marking_refs"][0] in TLP2_MARKING_IDS.values()
        assert level is not None and level >= floors.get(obj["id"].partition("--")[2], event_floor)


def _misp_types() -> list[str]:
    """Every attribute type PyMISP knows (its describeTypes.json, the list MISP itself serves)."""
    from pathlib import Path

    import pymisp

    types: list[str] = json.loads((Path(pymisp.__file__).parent / "data" / "describeTypes.json").read_text())[
        "result"]["types"]
    return types


_ODD_VALUES = ["198.51.100.7", "evil.example", "http://evil.example/a?b='c'", "d41d8cd98f00b204e9800998ecf8427e",
               "a|b", "1.2.3.4|80", "\u202egnp.exe", "' OR 1=1 --", "[ipv4-addr:value = '1.2.3.4']", "0" * 300]


def test_every_misp_attribute_type_converts_or_is_named() -> None:
    """Each of PyMISP's attribute types, with plausible and hostile values: every attribute becomes
    STIX marked at least as narrowly as its event, or is named as a problem; nothing is lost unsaid."""
    for misp_type in _misp_types():
        e = as_dict(event(tlp="tlp:amber"))
        e["Event"]["Attribute"] = [{"type": misp_type, "value": v, "to_ids": True, "category": "Other",
                                    "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{misp_type}|{v}"))}
                                   for v in _ODD_VALUES]
        done = conv.convert(e, "e.json")
        sent = {a["uuid"] for a in e["Event"]["Attribute"]}
        made = {o["id"].partition("--")[2] for o in done.objects} & sent
        named = {u for u in sent if any(u in p for p in done.problems)}
        assert made | named == sent and not made & named, misp_type
        for obj in done.objects:
            assert (tlp_of(obj["object_marking_refs"]) or Tlp.RED) >= Tlp.AMBER, (misp_type, obj["id"])
