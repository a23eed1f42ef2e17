"""Consultations between partners: open, send, acknowledge, answer, message, evidence, close, withdraw.

The state is never stored: it is replayed from the consultation object and its event objects with
:func:`accord.domain.coordination.consultation.replay`, so both parties, reading the same objects,
see the same history. Before writing a step the service replays, applies the step with the domain's
``step`` (which refuses steps out of order and steps by the wrong party) and only then writes; a
refusal is recorded in the audit log (``coordination.refused``) with the reason.

An event object whose ``created_by_ref`` names another organisation than the one that stored it is a
forgery on this node (with federation, the signature decides); it is shown as refused, never applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from accord.coordination import stix
from accord.coordination.workspace import Stored, Workspace, ensure_definitions, markings
from accord.domain.coordination import consultation as cm
from accord.domain.coordination.consultation import Ask, Deadline, Event, Finding, Kind
from accord.domain.coordination.errors import UnknownConsultation
from accord.domain.errors import AccordError, InvalidInput
from accord.domain.tlp import TLP2_MARKING_IDS, Tlp
from accord.stix.timestamps import now_micros


@dataclass(frozen=True, slots=True)
class View:
    """A consultation as one party sees it: replayed state, deadlines, refused events, the objects."""

    consultation: cm.Consultation
    deadlines: tuple[Deadline, Deadline]
    refused: tuple[tuple[Event, str], ...]
    summary: str
    observed_refs: tuple[str, ...]
    markings: tuple[str, ...]
    proposed_by: str
    malformed: tuple[tuple[str, str], ...] = ()  # (object id, why) of event objects that cannot be read
    seen: tuple[str, str] = ("", "")  # when the traffic was seen: first and last, as the opener says


def _start(obj: dict[str, object], owner: str) -> cm.Consultation:
    raw_asks = obj.get("asks", [])
    return cm.new(str(obj["id"]), owner, str(obj["addressee_ref"]), stix.micros(obj, "created"),
                  int(str(obj["ack_hours"])), int(str(obj["answer_hours"])),
                  stix.asks([str(a) for a in raw_asks] if isinstance(raw_asks, list) else []))


def _views(ws: Workspace, now: int, ids: Sequence[str] = ()) -> list[View]:
    heads = ws.read(stix.CONSULTATION, ids=ids)
    events: dict[str, list[Stored]] = {}
    for s in ws.read(stix.EVENT):
        events.setdefault(str(s.obj.get("consultation_ref")), []).append(s)
    out = []
    for head in heads:
        try:
            out.append(_view(head, events.get(str(head.obj["id"]), []), now, ws.settings.clock_skew_seconds))
        except AccordError:
            if ids:
                raise
            # a malformed consultation object (posted by hand over TAXII) must not hide the others
    return out


def _received(claimed: Event, stored: Stored, skew_seconds: int) -> Event:
    """The step's time, no earlier than this node's receipt of it minus the allowed clock skew.

    A partner cannot improve its record by back-dating an acknowledgement or answer it posts late
    (nor an opener make the addressee look slow by back-dating the sending): the node's own clock
    bounds every claim. Post-dating gains nobody anything, so later claims stand.
    """
    return replace(claimed, at=max(claimed.at, stored.date_added - skew_seconds * 1_000_000))


def _view(head: Stored, events: list[Stored], now: int, skew_seconds: int) -> View:
    obj = head.obj
    start = _start(obj, head.owner)
    forged: list[tuple[Event, str]] = []
    malformed: list[tuple[str, str]] = []
    accepted: list[Event] = []
    sent = stix.send_event(obj)
    if sent is not None:
        accepted.append(_received(sent, head, skew_seconds))
    for s in events:
        try:
            e = _received(stix.parse_event(s.obj), s, skew_seconds)
        except InvalidInput as exc:  # one unreadable event must not hide the consultation
            malformed.append((str(s.obj["id"]), exc.message))
            continue
        if e.by != s.owner:
            forged.append((e, f"claims to be by {e.by} but was stored by {s.owner}"))
        else:
            accepted.append(e)
    replayed = cm.replay(start, accepted)
    c = replayed.consultation
    return View(c, cm.deadlines(c, now), (*forged, *replayed.refused), str(obj.get("summary", "")),
                tuple(obj.get("observed_refs", ())), tuple(obj.get("object_marking_refs", ())),
                str(obj.get("proposed_by", "")), tuple(malformed),
                (str(obj.get("first_seen", "")), str(obj.get("last_seen", ""))))


def show(ws: Workspace, consultation_id: str, now: int | None = None) -> View:
    with ws.refusals("consult.show", consultation_id):
        return _get(ws, consultation_id, now or now_micros())


def _get(ws: Workspace, consultation_id: str, now: int) -> View:
    if not consultation_id.startswith(stix.CONSULTATION + "--"):
        raise UnknownConsultation(f"no consultation {consultation_id!r}")
    found = _views(ws, now, [consultation_id])
    if not found:
        raise UnknownConsultation(f"no consultation {consultation_id!r}")
    return found[0]


def list_all(ws: Workspace, now: int | None = None) -> list[View]:
    return _views(ws, now or now_micros())


def open_consultation(ws: Workspace, addressee: str, summary: str, asks: Sequence[str] = (Ask.CLARIFY.value,),
                      observed_refs: Sequence[str] = (), tlp: Tlp = Tlp.AMBER, groups: Sequence[str] = (),
                      first_seen: str | None = None, last_seen: str | None = None, proposed_by: str = "",
                      send: bool = True, now: int | None = None) -> View:
    """Open a consultation; a proposal (``send=False``) stays readable by the opener alone (TLP:RED)
    until :func:`send` gives it its intended markings."""
    at = now or now_micros()
    with ws.refusals("consult.open", addressee):
        to = ws.org(addressee)
        if tlp is Tlp.RED and not groups:
            raise InvalidInput("a TLP:RED consultation needs a sharing group naming both parties "
                               "(TLP:RED alone is readable by its owner only)")
        if not summary.strip():
            raise InvalidInput("say what was seen: the summary is empty")
        window = [None if t is None else stix.micros({"id": "the consultation", name: t}, name)
                  for name, t in (("first_seen", first_seen), ("last_seen", last_seen))]
        if window[0] is not None and window[1] is not None and window[1] < window[0]:
            raise InvalidInput("last_seen is earlier than first_seen")
        start = cm.new(stix.new_id(stix.CONSULTATION), ws.me.identity_id, to.identity_id, at,
                       ws.settings.ack_hours, ws.settings.answer_hours, stix.asks(list(asks)))
        ensure_definitions(ws)
        intended = markings(tlp, groups)
        obj = stix.sdo(stix.CONSULTATION, start.id, start.opener, at, at,
                       intended if send else [TLP2_MARKING_IDS[Tlp.RED]], addressee_ref=to.identity_id,
                       summary=summary, asks=[a.value for a in start.asks], observed_refs=list(observed_refs),
                       first_seen=None if window[0] is None else stix.ts(window[0]),
                       last_seen=None if window[1] is None else stix.ts(window[1]), ack_hours=start.ack_hours,
                       answer_hours=start.answer_hours, proposed_by=proposed_by,
                       sent=stix.ts(at) if send else None,
                       intended_marking_refs=None if send else intended)
        ws.write([obj])
    return _get(ws, start.id, at)


def send(ws: Workspace, consultation_id: str, now: int | None = None) -> View:
    """Send a proposed consultation: a new version with its intended markings and the time sent."""
    at = now or now_micros()
    with ws.refusals("consult.send", consultation_id):
        view = _get(ws, consultation_id, at)
        cm.step(view.consultation, Event(f"{consultation_id}#send", Kind.SEND, ws.me.identity_id, at))
        obj = ws.read(stix.CONSULTATION, ids=[consultation_id])[0].obj
        intended = obj.pop("intended_marking_refs", None) or markings(Tlp.AMBER)
        obj.update(object_marking_refs=intended, modified=stix.ts(at), sent=stix.ts(at))
        ws.write([obj])
    return _get(ws, consultation_id, at)


def act(ws: Workspace, consultation_id: str, kind: Kind, text: str = "", finding: Finding | None = None,
        refs: Sequence[str] = (), now: int | None = None) -> View:
    """One step by the principal's organisation. Refused (and audited) when the domain says no."""
    if kind is Kind.SEND:
        return send(ws, consultation_id, now)
    at = now or now_micros()
    with ws.refusals(f"consult.{kind.value}", consultation_id):
        view = _get(ws, consultation_id, at)
        last = max((e.at for e in view.consultation.events), default=at)
        e = Event(stix.new_id(stix.EVENT), kind, ws.me.identity_id, max(at, last), finding, text, tuple(refs))
        cm.step(view.consultation, e)
        ws.write([stix.event(consultation_id, e, [m for m in view.markings])])
    return _get(ws, consultation_id, at)
