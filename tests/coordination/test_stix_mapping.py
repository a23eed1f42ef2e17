"""Every object coordination writes is valid STIX 2.1: for the stix2 library and the node's validator.

The custom object classes below restate the extension definitions' schemas (docs/coordination.md) for
the ``stix2`` library, which then checks property types, vocabularies and references strictly (no
``allow_custom``).
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
import stix2
from stix2.properties import EnumProperty, IntegerProperty, ListProperty, ReferenceProperty, StringProperty
from stix2.v21 import CustomObject

from accord.coordination import constituencies, consultations, incidents, stix, sweep
from accord.domain.coordination.attribution import Question, Stance
from accord.domain.coordination.consultation import Ask, Finding, Kind
from accord.stix.validate import check_object
from accord.store.objects import ObjectFilter, VersionFilter
from tests.conftest import Node
from tests.coordination.helpers import HOUR, T0, as_, sensor_objects


def _ref(*types: str) -> ReferenceProperty:
    return ReferenceProperty(valid_types=list(types), spec_version="2.1") if types else \
        ReferenceProperty(invalid_types=["bundle"], spec_version="2.1")


class _ProjectRef(ReferenceProperty):  # type: ignore[misc]
    """A reference that may name the project's own custom types (the library refuses those otherwise)."""

    def clean(self, value: Any, allow_custom: bool, *rest: Any) -> Any:
        cleaned, _ = super().clean(value, True, *rest)
        return cleaned, False


@CustomObject(stix.CONSTITUENCY, [("name", StringProperty(required=True)), ("owner_ref", _ref("identity")),
                                  ("networks", ListProperty(StringProperty)),
                                  ("autonomous_systems", ListProperty(IntegerProperty(min=1))),
                                  ("domains", ListProperty(StringProperty))],
              extension_name=stix.EXTENSIONS[stix.CONSTITUENCY])
class _Constituency:
    pass


@CustomObject(stix.CONSULTATION, [("addressee_ref", _ref("identity")), ("summary", StringProperty(required=True)),
                                  ("asks", ListProperty(EnumProperty([a.value for a in Ask]))),
                                  ("observed_refs", ListProperty(_ref())), ("first_seen", StringProperty()),
                                  ("last_seen", StringProperty()), ("ack_hours", IntegerProperty(min=1)),
                                  ("answer_hours", IntegerProperty(min=1)), ("sent", StringProperty()),
                                  ("proposed_by", StringProperty()),
                                  ("intended_marking_refs", ListProperty(_ref("marking-definition")))],
              extension_name=stix.EXTENSIONS[stix.CONSULTATION])
class _Consultation:
    pass


@CustomObject(stix.EVENT, [("consultation_ref", _ProjectRef(valid_types=[stix.CONSULTATION], spec_version="2.1")),
                           ("event_type", EnumProperty([k.value for k in Kind], required=True)),
                           ("finding", EnumProperty([f.value for f in Finding])), ("text", StringProperty()),
                           ("evidence_refs", ListProperty(_ref()))], extension_name=stix.EXTENSIONS[stix.EVENT])
class _Event:
    pass


@CustomObject(stix.WARNING, [("priority", EnumProperty(["normal", "high", "top"], required=True)),
                             ("reason", StringProperty(required=True)),
                             ("subject_ref", _ProjectRef(invalid_types=["bundle"], spec_version="2.1")),
                             ("recipient_refs", ListProperty(_ref("identity"))), ("description", StringProperty())],
              extension_name=stix.EXTENSIONS[stix.WARNING])
class _Warning:
    pass


def everything(node: Node) -> list[dict[str, Any]]:
    with node.store.read() as tx:
        col = tx.find_collection(None, "default")
        rows = tx.scan(col.id, ObjectFilter(versions=VersionFilter(all=True)), None, 100_000)
    return [orjson.loads(r.body) for r in rows]


def test_all_coordination_objects_are_valid_stix(node: Node) -> None:
    host, energy, isac = (as_(node.store, a) for a in ("admin", "energy-co-analyst", "health-isac-analyst"))
    constituencies.declare(energy, ["203.0.113.0/24", "2001:db8::/32"], ["AS64501"], ["grid.example"], now=T0)
    isac.write(sensor_objects(isac, "203.0.113.7"))
    proposal = sweep.sweep(isac, now=T0).proposed[0].consultation.id
    consultations.send(isac, proposal, now=T0 + HOUR)
    consultations.act(energy, proposal, Kind.ACKNOWLEDGE, "ok", now=T0 + 2 * HOUR)
    consultations.act(energy, proposal, Kind.ANSWER, "fixed", Finding.COMPROMISED, now=T0 + 3 * HOUR)
    incident = incidents.create(isac, "Hospital outage", "ransomware", victim="health-isac", invited=["energy-co"],
                                consultations=[proposal], now=T0 + 4 * HOUR)
    incidents.add_evidence(host, incident.id, ["sighting--00000001-0000-4000-8000-000000000000"], "also here")
    incidents.assess(host, incident.id, Question.ORIGIN, "energy-co", Stance.AGREE, 80, "their server")
    sweep.sweep(isac, now=T0 + 1000 * HOUR)  # deadline and protected-sector warnings
    objects = everything(node)
    kinds = {o["type"] for o in objects}
    assert {*stix.NEW_SDOS, "extension-definition", "incident", "note", "opinion"} <= kinds
    for obj in objects:
        check_object(obj)
        parsed = stix2.parse(obj)  # strict: unknown custom types or properties would be refused
        assert parsed["id"] == obj["id"]


def test_extension_definitions_name_the_project_and_their_kind() -> None:
    defs = {d["name"]: d for d in stix.definitions() if d["type"] == "extension-definition"}
    assert defs[stix.CONSULTATION]["extension_types"] == ["new-sdo"]
    assert defs["x-accord-coordination"]["extension_types"] == ["property-extension"]
    assert all(d["created_by_ref"] == stix.PROJECT_IDENTITY for d in defs.values())
    assert stix.definitions() == stix.definitions()  # fixed ids and dates: every node defines the same


def test_stix2_refuses_a_consultation_event_outside_the_vocabulary() -> None:
    good = stix.sdo(stix.EVENT, stix.new_id(stix.EVENT), "identity--00000000-0000-4000-8000-000000000001", T0, T0,
                    [], consultation_ref=stix.new_id(stix.CONSULTATION), event_type="answer", finding="declined")
    stix2.parse(good)
    with pytest.raises(stix2.exceptions.InvalidValueError):
        stix2.parse({**good, "finding": "it was the other guys"})
