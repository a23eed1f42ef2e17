"""Coordination on one node with several partner organisations, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from accord.coordination import constituencies, consultations, incidents, reports, sweep
from accord.coordination.workspace import set_setting
from accord.domain.coordination.attribution import Question, Stance, Status
from accord.domain.coordination.consultation import DeadlineStatus, Finding, Kind, State
from accord.domain.coordination.errors import InvalidTransition, NotParty, UnknownConsultation
from accord.domain.errors import InvalidInput, NotAllowed, NotFound
from accord.domain.tlp import TLP2_MARKING_IDS, Tlp
from accord.services import admin
from accord.stix.timestamps import now_micros
from accord.store.repository import Store
from tests.conftest import Node
from tests.coordination.helpers import HOUR, T0, as_, sensor_objects


def refusals(store: Store) -> list[dict[str, object]]:
    with store.read() as tx:
        return [r.details for r, _ in tx.audit_records() if r.action == "coordination.refused"]


def declare_all(node: Node) -> None:
    constituencies.declare(as_(node.store, "admin"), ["203.0.0.0/16"], ["AS64500"], ["example.de"], now=T0)
    constituencies.declare(as_(node.store, "energy-co-analyst"), ["203.0.113.0/24", "2001:db8::/32"], ["64501"],
                           ["grid.example.de"], now=T0)


def test_whois_partner_longest_prefix_overlap_and_redeclaration(node: Node) -> None:
    declare_all(node)
    ws = as_(node.store, "health-isac-analyst")
    answer = constituencies.whois(ws, "203.0.113.7")
    assert answer.owner == ws.org("energy-co").identity_id
    assert [c.name for c in answer.overlapping] == ["host-cert"]
    assert constituencies.whois(ws, "ops.grid.example.de").owner == ws.org("energy-co").identity_id
    assert constituencies.whois(ws, "AS64500").owner == ws.org("host-cert").identity_id
    # energy-co hands the /24 back: a new version replaces the old declaration
    constituencies.declare(as_(node.store, "energy-co-analyst"), ["2001:db8::/32"], now=T0 + HOUR)
    assert constituencies.whois(ws, "203.0.113.7").owner == ws.org("host-cert").identity_id
    with pytest.raises(InvalidInput):
        constituencies.declare(as_(node.store, "energy-co-analyst"), ["203.0.113.7/24"])


def test_sensor_match_becomes_a_proposal_then_ack_answer_close(node: Node) -> None:
    declare_all(node)
    isac = as_(node.store, "health-isac-analyst")
    isac.write(sensor_objects(isac, "203.0.113.7"))
    result = sweep.sweep(isac, now=T0)
    assert len(result.proposed) == 1
    proposal = result.proposed[0].consultation
    assert proposal.state is State.PROPOSED and proposal.addressee == isac.org("energy-co").identity_id
    assert result.proposed[0].observed_refs == ("sighting--00000001-0000-4000-8000-000000000000",)
    assert result.proposed[0].seen == ("2026-11-18T10:00:00.000000Z", "2026-11-18T10:00:00.000000Z")
    assert sweep.sweep(isac, now=T0).proposed == []  # the evidence is already cited
    energy = as_(node.store, "energy-co-analyst")
    assert consultations.list_all(energy, T0) == []  # a proposal is the opener's alone
    consultations.send(isac, proposal.id, now=T0 + HOUR)
    seen = consultations.show(energy, proposal.id, T0 + HOUR)
    assert seen.consultation.state is State.OPEN and seen.observed_refs == result.proposed[0].observed_refs
    consultations.act(energy, proposal.id, Kind.ACKNOWLEDGE, "looking", now=T0 + 3 * HOUR)
    consultations.act(energy, proposal.id, Kind.EVIDENCE, "netflow",
                      refs=["note--00000000-0000-4000-8000-0000000000aa"], now=T0 + 4 * HOUR)
    consultations.act(energy, proposal.id, Kind.ANSWER, "infected server, isolated", Finding.COMPROMISED,
                      now=T0 + 10 * HOUR)
    done = consultations.act(isac, proposal.id, Kind.CLOSE, "thanks", now=T0 + 11 * HOUR)
    assert done.consultation.state is State.CLOSED and done.consultation.finding is Finding.COMPROMISED
    assert [d.status for d in done.deadlines] == [DeadlineStatus.MET, DeadlineStatus.MET]
    assert consultations.show(energy, proposal.id, T0 + 12 * HOUR) == consultations.show(isac, proposal.id,
                                                                                         T0 + 12 * HOUR)
    record = reports.record(isac, T0 + 12 * HOUR)[isac.org("energy-co").identity_id]
    assert (record.received, record.acknowledged, record.answered) == (1, 1, 1)
    assert record.median_ack_micros == 2 * HOUR and record.median_answer_micros == 9 * HOUR
    assert record.evidence == 1 and record.deadlines_missed == 0


def test_bad_input_is_refused_clearly_and_recorded(node: Node) -> None:
    isac = as_(node.store, "health-isac-analyst")
    view = consultations.open_consultation(isac, "energy-co", "scanning from 203.0.113.7", now=T0)
    cid = view.consultation.id
    host = as_(node.store, "admin")
    with pytest.raises(NotParty, match="host-cert is not a party"):
        consultations.act(host, cid, Kind.ANSWER, "benign", Finding.BENIGN, now=T0 + HOUR)
    energy = as_(node.store, "energy-co-analyst")
    with pytest.raises(InvalidTransition, match="while it is open"):
        consultations.act(energy, cid, Kind.ANSWER, "benign", Finding.BENIGN, now=T0 + HOUR)
    with pytest.raises(NotParty, match="only the addressee may acknowledge .* health-isac is the opener"):
        consultations.act(isac, cid, Kind.ACKNOWLEDGE, now=T0 + HOUR)
    with pytest.raises(UnknownConsultation):
        consultations.show(energy, "x-accord-consultation--00000000-0000-4000-8000-000000000000")
    with pytest.raises(NotFound):  # the outsider has no access to the collection at all
        consultations.show(as_(node.store, "outsider-analyst"), cid)
    with pytest.raises(InvalidInput, match="sharing group"):
        consultations.open_consultation(isac, "energy-co", "x", tlp=Tlp.RED)
    with pytest.raises(InvalidTransition, match="itself"):
        consultations.open_consultation(isac, "health-isac", "x")
    reasons = refusals(node.store)
    assert [r["action"] for r in reasons][:4] == ["consult.answer", "consult.answer", "consult.acknowledge",
                                                  "consult.show"]
    assert reasons[0]["error"] == "NotParty" and "host-cert is not a party" in str(reasons[0]["reason"])
    assert consultations.show(energy, cid).consultation.state is State.OPEN


def test_forged_event_written_around_the_service_is_shown_refused(node: Node) -> None:
    """The host stores an 'answer' claiming to be energy-co's: it is never applied."""
    isac = as_(node.store, "health-isac-analyst")
    cid = consultations.open_consultation(isac, "energy-co", "scan", now=T0).consultation.id
    energy = as_(node.store, "energy-co-analyst")
    consultations.act(energy, cid, Kind.ACKNOWLEDGE, now=T0 + HOUR)
    from accord.coordination import stix
    from accord.domain.coordination.consultation import Event

    host = as_(node.store, "admin")
    forged = Event("x-accord-consultation-event--00000000-0000-4000-8000-00000000f0f0", Kind.ANSWER,
                   energy.me.identity_id, T0 + 2 * HOUR, Finding.BENIGN, "nothing to see")
    host.write([stix.event(cid, forged, [])])
    garbled = {**stix.event(cid, forged, []), "id": stix.new_id(stix.EVENT), "event_type": "shout"}
    host.write([garbled])
    view = consultations.show(isac, cid, T0 + 3 * HOUR)
    assert view.consultation.state is State.ACKNOWLEDGED
    assert [(e.id, "stored by" in why) for e, why in view.refused] == [(forged.id, True)]
    assert [(i, "bad consultation event" in why) for i, why in view.malformed] == [(garbled["id"], True)]


def test_missed_deadlines_escalate_once_to_both_sides(node: Node) -> None:
    isac = as_(node.store, "health-isac-analyst")
    cid = consultations.open_consultation(isac, "energy-co", "scan", now=T0).consultation.id
    assert sweep.sweep(isac, now=T0 + HOUR).deadline_warnings == 0
    assert sweep.sweep(isac, now=T0 + 30 * HOUR).deadline_warnings == 1
    assert sweep.sweep(isac, now=T0 + 100 * HOUR).deadline_warnings == 1  # the answer's, the ack's is known
    assert sweep.sweep(isac, now=T0 + 100 * HOUR).deadline_warnings == 0
    energy = as_(node.store, "energy-co-analyst")
    seen = reports.warnings(energy)
    assert {(w["reason"], w["subject_ref"]) for w in seen} == {("deadline-missed", cid)}
    assert all(sorted(w["recipient_refs"]) == sorted([isac.me.identity_id, energy.me.identity_id]) for w in seen)
    assert reports.record(energy, T0 + 100 * HOUR)[energy.me.identity_id].deadlines_missed == 2


def test_joint_incident_contested_then_concluded_norms_and_report(node: Node) -> None:
    set_setting(node.store, "quorum", "2")
    isac = as_(node.store, "health-isac-analyst")
    energy = as_(node.store, "energy-co-analyst")
    host = as_(node.store, "admin")
    cid = consultations.open_consultation(isac, "energy-co", "scan", now=T0).consultation.id
    incident = incidents.create(isac, "Ransomware at hospital", victim="health-isac", invited=["energy-co"],
                                consultations=[cid], now=T0 + HOUR)
    assert incident.norms is not None and incident.norms.sectors == ("healthcare",)
    with pytest.raises(UnknownConsultation):
        incidents.create(isac, "Typo", consultations=["x-accord-consultation--00000000-0000-4000-8000-000000000000"])
    top = reports.warnings(host)
    assert top[0]["priority"] == "top" and top[0]["subject_ref"] == incident.id
    assert set(top[0]["recipient_refs"]) == {isac.me.identity_id, energy.me.identity_id, host.me.identity_id}
    incidents.add_evidence(host, incident.id, ["indicator--00000000-0000-4000-8000-000000000001",
                                               "sighting--00000000-0000-4000-8000-000000000002"], "seen at our CERT")
    actor = "intrusion-set--00000000-0000-4000-8000-0000000000a1"
    incidents.assess(isac, incident.id, Question.RESPONSIBILITY, actor, Stance.AGREE, 80)
    view = incidents.assess(host, incident.id, Question.RESPONSIBILITY, actor, Stance.AGREE, 60)
    assert view.responsibility.status is Status.CONTESTED
    view = incidents.assess(host, incident.id, Question.RESPONSIBILITY, actor, Stance.STRONGLY_AGREE, 90)
    assert view.responsibility.status is Status.CONCLUDED and view.responsibility.subject == actor
    view = incidents.assess(energy, incident.id, Question.RESPONSIBILITY, actor, Stance.STRONGLY_DISAGREE, 50)
    assert view.responsibility.status is Status.CONTESTED
    assert view.responsibility.views[0].strong_dissenters == (energy.me.identity_id,)
    view = incidents.assess(energy, incident.id, Question.ORIGIN, "energy-co", Stance.AGREE, 90, "our server")
    assert view.origin.status is Status.CONTESTED and view.contributions[0].org == host.me.identity_id
    with pytest.raises(InvalidInput, match="intrusion-set"):
        incidents.assess(energy, incident.id, Question.RESPONSIBILITY, energy.me.identity_id, Stance.AGREE, 90)
    with pytest.raises(NotFound, match="Sandworm"):
        incidents.assess(energy, incident.id, Question.RESPONSIBILITY, "Sandworm", Stance.AGREE, 90)
    host.write([{"type": "intrusion-set", "spec_version": "2.1", "id": actor, "created": "2026-01-01T00:00:00Z",
                 "modified": "2026-01-01T00:00:00Z", "name": "Sandworm Team", "aliases": ["Sandworm"]}])
    named = incidents.assess(energy, incident.id, Question.RESPONSIBILITY, "sandworm", Stance.DISAGREE, 50)
    assert named.responsibility.status is Status.CONCLUDED  # a plain disagreement is shown, not a veto
    assert named.responsibility.views[0].dissenters == (energy.me.identity_id,)
    with pytest.raises(NotAllowed):
        incidents.invite(energy, incident.id, "host-cert")
    report = reports.norms_report(host, T0)
    assert [e.incident.id for e in report.incidents] == [incident.id]
    assert [v.consultation.id for v in report.incidents[0].consultations] == [cid]
    assert reports.norms_report(host, T0 + 2 * HOUR).incidents == ()
    assert reports.record(host)[host.me.identity_id].evidence == 2


def test_protected_sighting_is_escalated_by_the_sweep(node: Node) -> None:
    isac = as_(node.store, "health-isac-analyst")
    isac.write(sensor_objects(isac, "198.51.100.9"))
    assert sweep.sweep(isac, now=T0).norms_warnings == 1
    assert sweep.sweep(isac, now=T0).norms_warnings == 0
    report = reports.norms_report(as_(node.store, "energy-co-analyst"), 0)
    assert [w["subject_ref"] for w in report.sightings] == ["sighting--00000001-0000-4000-8000-000000000000"]


def test_a_backdated_step_counts_from_when_the_node_received_it(node: Node) -> None:
    """energy-co posts its acknowledgement over TAXII claiming it came a minute after sending."""
    set_setting(node.store, "clock_skew_seconds", "0")
    isac = as_(node.store, "health-isac-analyst")
    energy = as_(node.store, "energy-co-analyst")
    sent = now_micros()
    cid = consultations.open_consultation(isac, "energy-co", "scan", now=sent).consultation.id
    from accord.coordination import stix
    from accord.domain.coordination.consultation import Event

    claimed = Event(stix.new_id(stix.EVENT), Kind.ACKNOWLEDGE, energy.me.identity_id, sent + 1, None, "long ago")
    before = now_micros()
    energy.write([stix.event(cid, claimed, [])])
    view = consultations.show(isac, cid)
    assert view.consultation.acknowledged is not None and view.consultation.acknowledged >= before
    assert view.refused == ()


def test_messages_and_auto_send(node: Node) -> None:
    declare_all(node)
    set_setting(node.store, "auto_send", "true")
    isac = as_(node.store, "health-isac-analyst")
    isac.write(sensor_objects(isac, "203.0.113.9"))
    sent = sweep.sweep(isac, now=T0).proposed[0]
    assert sent.consultation.state is State.OPEN and sent.proposed_by == "sensor"
    energy = as_(node.store, "energy-co-analyst")
    consultations.act(energy, sent.consultation.id, Kind.MESSAGE, "which port?", now=T0 + HOUR)
    view = consultations.act(isac, sent.consultation.id, Kind.MESSAGE, "22/tcp", now=T0 + 2 * HOUR)
    assert [(e.kind, e.text) for e in view.consultation.events[1:]] == [(Kind.MESSAGE, "which port?"),
                                                                        (Kind.MESSAGE, "22/tcp")]
    assert view.consultation.state is State.OPEN


def test_a_group_restricted_incident_and_its_warning_stay_within_the_group(node: Node) -> None:
    marking = admin.create_group(node.store, "pair")
    for org in ("health-isac", "energy-co"):
        admin.set_group_member(node.store, "pair", org, True)
    isac = as_(node.store, "health-isac-analyst")
    view = incidents.create(isac, "Quiet one", victim="health-isac", groups=[marking], now=T0)
    host = as_(node.store, "admin")
    with pytest.raises(NotFound):
        incidents.show(host, view.id)
    assert reports.warnings(host) == []
    energy = as_(node.store, "energy-co-analyst")
    warning = reports.warnings(energy)[0]
    assert sorted(warning["recipient_refs"]) == sorted([isac.me.identity_id, energy.me.identity_id])


def test_an_anomaly_is_proposed_to_the_source_partner_only(node: Node) -> None:
    """Anomaly observed-data names source and destination; only the source's partner is consulted."""
    declare_all(node)
    isac = as_(node.store, "health-isac-analyst")
    src = {"type": "ipv4-addr", "spec_version": "2.1", "id": "ipv4-addr--0000000a-0000-4000-8000-000000000000",
           "value": "203.0.113.50"}
    dst = {"type": "ipv4-addr", "spec_version": "2.1", "id": "ipv4-addr--0000000b-0000-4000-8000-000000000000",
           "value": "203.0.5.5"}  # in host-cert's /16: the destination is not who we ask
    flow = {"type": "network-traffic", "spec_version": "2.1",
            "id": "network-traffic--0000000c-0000-4000-8000-000000000000",
            "src_ref": src["id"], "dst_ref": dst["id"], "protocols": ["tcp"]}
    stamp = "2026-11-20T00:00:00.000Z"
    observed = {"type": "observed-data", "spec_version": "2.1",
                "id": "observed-data--0000000d-0000-4000-8000-000000000000",
                "created": stamp, "modified": stamp, "first_observed": stamp, "last_observed": stamp,
                "number_observed": 1, "object_refs": [flow["id"], src["id"], dst["id"]]}
    odd = {"type": "ipv4-addr", "spec_version": "2.1", "id": "ipv4-addr--0000000e-0000-4000-8000-000000000000",
           "value": "203.0.113.0/28"}
    ranged = {**observed, "id": "observed-data--0000000f-0000-4000-8000-000000000000", "object_refs": [odd["id"]]}
    isac.write([src, dst, flow, observed, odd, ranged])
    proposed = sweep.sweep(isac, now=T0).proposed
    assert [(v.consultation.addressee, v.observed_refs) for v in proposed] == [
        (isac.org("energy-co").identity_id, (observed["id"],))]


@pytest.mark.parametrize(("markings", "expected"), [
    ((), Tlp.AMBER),  # unmarked evidence reads as AMBER
    (("marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",), Tlp.AMBER),  # TLP:AMBER
    (("marking-definition--826578e1-40ad-459f-bc73-ede076f81f37",), Tlp.AMBER_STRICT),  # OpenCTI's AMBER+STRICT
    # a marking the node does not know is RED when stored, so the proposal is as strict as a partner can read
    (("marking-definition--00000000-0000-4000-8000-00000000beef",), Tlp.AMBER_STRICT),
])
def test_a_proposal_is_as_restrictive_as_its_evidence_as_stored(node: Node, markings: tuple[str, ...],
                                                                expected: Tlp) -> None:
    declare_all(node)
    set_setting(node.store, "auto_send", "true")  # sent at once: a proposal kept back is RED until sent
    isac = as_(node.store, "health-isac-analyst")
    objects = sensor_objects(isac, "203.0.113.7")
    for obj in objects[1:]:  # the observed-data and the sighting
        if markings:
            obj["object_marking_refs"] = list(markings)
    isac.write(objects)
    proposed = sweep.sweep(isac, now=T0).proposed
    assert len(proposed) == 1
    assert [m for m in proposed[0].markings if m in TLP2_MARKING_IDS.values()] == [TLP2_MARKING_IDS[expected]]
