"""The periodic pass an operator runs (``accord coordination sweep``), until federation pushes events.

1. Proposals: the sensor's sightings (STIX 2.1 section 5.2) and anomaly observed-data (4.14) that this
   organisation stored are checked against the partners' constituencies; traffic whose source lies in
   another partner's constituency becomes a *proposed* consultation with that partner, citing the
   evidence. It waits for a human (``accord consult send``) unless the operator enabled auto-send.
   Evidence already cited by one of our consultations is not proposed twice; disputed addresses are
   reported and not proposed, because choosing a partner there would be the blame we try to avoid.
2. Deadlines: each missed acknowledgement or answer deadline of a consultation we are party to yields
   a warning to both parties (one per writer, step and consultation: sweeping twice writes nothing new).
3. Norms: our sightings whose sighted organisation (``where_sighted_refs``, else ourselves) is in a
   protected sector yield a top warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from accord.coordination import consultations, stix
from accord.coordination.constituencies import declarations
from accord.coordination.incidents import protected_warning
from accord.coordination.workspace import Stored, Workspace
from accord.domain.coordination.constituency import ConstituencyIndex
from accord.domain.coordination.consultation import DeadlineStatus
from accord.domain.errors import InvalidInput
from accord.domain.tlp import Tlp
from accord.stix.timestamps import now_micros

_ADDRESS_TYPES = ("ipv4-addr", "ipv6-addr", "domain-name")


@dataclass
class SweepResult:
    proposed: list[consultations.View] = field(default_factory=list)
    disputed: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)  # address, partners claiming it
    deadline_warnings: int = 0
    norms_warnings: int = 0


def _sources(observed: dict[str, Any], scos: dict[str, dict[str, Any]]) -> list[str]:
    """Addresses an observed-data cites: the traffic's source when there is one, else every address."""
    refs = [scos[r] for r in observed.get("object_refs", []) if r in scos]
    traffic = [o for o in refs if o.get("type") == "network-traffic" and o.get("src_ref") in scos]
    if traffic:
        return [str(scos[t["src_ref"]].get("value")) for t in traffic if scos[t["src_ref"]]["type"] in _ADDRESS_TYPES]
    return [str(o["value"]) for o in refs if o.get("type") in _ADDRESS_TYPES and "value" in o]


def _propose(ws: Workspace, result: SweepResult, now: int) -> None:
    mine = [s for s in ws.read("sighting", "observed-data") if s.owner == ws.me.identity_id]
    observed = {str(s.obj["id"]): s.obj for s in mine if s.obj["type"] == "observed-data"}
    scos = {str(s.obj["id"]): s.obj for s in ws.read(*_ADDRESS_TYPES, "network-traffic")}
    cited = {r for v in consultations.list_all(ws, now) if v.consultation.opener == ws.me.identity_id
             for r in v.observed_refs}
    sightings = [s.obj for s in mine if s.obj["type"] == "sighting"]
    levels = {str(s.obj["id"]): s.tlp for s in mine}  # as stored: a marking the node does not know is RED
    behind_sightings = {r for obj in sightings for r in obj.get("observed_data_refs", [])}
    evidence: list[tuple[str, list[str], Any]] = [  # (evidence id, addresses, the object)
        (str(obj["id"]), [a for r in obj.get("observed_data_refs", []) if r in observed
                          for a in _sources(observed[r], scos)], obj) for obj in sightings]
    evidence += [(oid, _sources(obj, scos), obj) for oid, obj in observed.items() if oid not in behind_sightings]
    index = ConstituencyIndex(declarations(ws))
    per_partner: dict[str, list[tuple[str, str, Any]]] = {}
    for evidence_id, addresses, obj in evidence:
        if evidence_id in cited:
            continue
        for address in sorted(set(addresses)):
            try:
                answer = index.lookup(address)
            except InvalidInput:  # a range or a malformed value: nothing to look up
                continue
            if answer.disputed:
                result.disputed.append((address, tuple(sorted({c.name for c in answer.holders}))))
            elif answer.owner is not None and answer.owner != ws.me.identity_id:
                per_partner.setdefault(answer.owner, []).append((evidence_id, address, obj))
    for partner, items in sorted(per_partner.items()):
        refs = sorted({i[0] for i in items})
        addresses = sorted({i[1] for i in items})
        firsts = sorted(stix.micros(o, k) for _, _, o in items for k in ("first_seen", "first_observed") if k in o)
        lasts = sorted(stix.micros(o, k) for _, _, o in items for k in ("last_seen", "last_observed") if k in o)
        # as restrictive as the evidence, but readable by the partner (TLP:RED would need a group)
        level = min(max(levels[evidence_id] or Tlp.AMBER for evidence_id, _, _ in items), Tlp.AMBER_STRICT)
        summary = (f"Our sensor saw traffic from {', '.join(addresses)} (in your constituency): "
                   f"{len(refs)} sighting(s) or observation(s). Can you clarify?")
        result.proposed.append(consultations.open_consultation(
            ws, partner, summary, observed_refs=refs, tlp=level,
            first_seen=stix.ts(firsts[0]) if firsts else None, last_seen=stix.ts(lasts[-1]) if lasts else None,
            proposed_by="sensor", send=ws.settings.auto_send, now=now))


def _deadline_warnings(ws: Workspace, now: int) -> int:
    known = {str(s.obj["id"]) for s in ws.read(stix.WARNING)}
    written = []
    for view in consultations.list_all(ws, now):
        c = view.consultation
        if c.party_of(ws.me.identity_id) is None:
            continue
        for d in view.deadlines:
            if d.status is DeadlineStatus.MISSED and d.due is not None:
                written.append(stix.sdo(
                    stix.WARNING, stix.stable_id(stix.WARNING, c.id, d.step.value, ws.me.identity_id),
                    ws.me.identity_id, d.due, d.due, view.markings, priority="high", reason="deadline-missed",
                    subject_ref=c.id, recipient_refs=sorted({c.opener, c.addressee}),
                    description=f"{ws.name(c.addressee)} missed the {d.step.value} deadline of {c.id}"))
    new = [w for w in written if w["id"] not in known]
    if new:
        ws.write(new)
    return len(new)


def _norms_warnings(ws: Workspace, mine: list[Stored]) -> int:
    known = {str(s.obj["id"]) for s in ws.read(stix.WARNING)}
    def sectors(identity: str) -> tuple[str, ...]:
        org = ws.by_identity.get(identity)
        return org.sectors if org else ()

    # the sighted organisation is the victim; a sighting that names none was sighted by its owner
    found = [protected_warning(ws, str(s.obj["id"]), str(victim), sectors(str(victim)),
                               s.obj.get("object_marking_refs", []), stix.micros(s.obj, "modified"))
             for s in mine for victim in s.obj.get("where_sighted_refs") or [s.owner]]
    new = list({w["id"]: w for w in found if w is not None and w["id"] not in known}.values())
    if new:
        ws.write(new)
    return len(new)


def sweep(ws: Workspace, now: int | None = None) -> SweepResult:
    at = now or now_micros()
    result = SweepResult()
    with ws.refusals("coordination.sweep", ws.me.name):
        _propose(ws, result, at)
        result.deadline_warnings = _deadline_warnings(ws, at)
        mine = [s for s in ws.read("sighting") if s.owner == ws.me.identity_id]
        result.norms_warnings = _norms_warnings(ws, mine)
    return result
