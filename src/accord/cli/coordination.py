"""Coordination commands: whois-partner, constituency, consult, incident, assess, report norms, record.

Every command acts as one account (``--as``, default the node's admin), so the sharing policy and the
consultation rules apply exactly as they do over the API: acting as a partner that is not the
addressee, ``accord consult answer`` is refused and the refusal is in the audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from accord.cli.common import node_options, out, store_for
from accord.config import ADMIN_ACCOUNT, Settings
from accord.domain.coordination.attribution import Question, Stance, parse_confidence
from accord.domain.coordination.consultation import Ask, Finding, Kind
from accord.domain.tlp import Tlp

if TYPE_CHECKING:
    from accord.coordination import consultations, incidents
    from accord.coordination.workspace import Workspace

F = TypeVar("F", bound=Callable[..., Any])
_TLP = click.Choice(["clear", "green", "amber", "amber+strict", "red"], case_sensitive=False)


def acting(func: F) -> F:
    """``--as ACCOUNT``: the account (and so the organisation) the command acts for."""
    return click.option("--as", "account", default=ADMIN_ACCOUNT, show_default=True,
                        help="Act as this account (its organisation is the partner).")(func)


def _ws(settings: Settings, account: str) -> Workspace:
    from accord.coordination.workspace import Workspace
    from accord.services import admin

    store = store_for(settings)
    return Workspace(store, admin.principal_for(store, account))


def _hours(value: float | None) -> str:
    return "" if value is None else f"{value:.1f} h"


@click.command("whois-partner")
@click.argument("query")
@acting
@node_options
def whois_partner(settings: Settings, query: str, account: str) -> None:
    """Which partner's constituency an address, AS number or domain is in (overlaps and disputes shown)."""
    from accord.coordination import constituencies, summaries

    ws = _ws(settings, account)
    raw = summaries.whois(ws, constituencies.whois(ws, query))
    verdict = ("DISPUTED between " + ", ".join(raw["holders"]) if raw["disputed"]
               else raw["owner"] or "no partner declares it")
    out().table(f"{raw['query']}: {verdict}", ["partner", "declared", "match"],
                [(c["partner"], c["entry"], c["role"]) for c in raw["claims"]], raw)


@click.group()
def constituency() -> None:
    """Declare the networks your organisation answers for."""


@constituency.command("declare")
@click.option("--network", "networks", multiple=True, help="IPv4 or IPv6 prefix (repeat).")
@click.option("--asn", "asns", multiple=True, help="Autonomous system number, e.g. AS64500 (repeat).")
@click.option("--domain", "domains", multiple=True, help="Domain (repeat); covers its subdomains.")
@click.option("--tlp", type=_TLP, default="green", show_default=True)
@acting
@node_options
def constituency_declare(settings: Settings, networks: tuple[str, ...], asns: tuple[str, ...],
                         domains: tuple[str, ...], tlp: str, account: str) -> None:
    """Declare (replacing any earlier declaration) your organisation's constituency."""
    from accord.coordination import constituencies, summaries

    d = constituencies.declare(_ws(settings, account), networks, asns, domains, Tlp.parse(tlp))
    raw = summaries.declaration(d)
    out().message(f"{d.name} declares {len(d.networks)} prefix(es), {len(d.asns)} AS, {len(d.domains)} domain(s)",
                  raw)


@constituency.command("list")
@acting
@node_options
def constituency_list(settings: Settings, account: str) -> None:
    """Every declaration visible to you."""
    from accord.coordination import constituencies, summaries

    decls = constituencies.declarations(_ws(settings, account))
    raw = [summaries.declaration(d) for d in decls]
    out().table("Constituencies", ["partner", "networks", "AS", "domains"],
                [(r["partner"], " ".join(r["networks"]), " ".join(f"AS{a}" for a in r["asns"]),
                  " ".join(r["domains"])) for r in raw], raw)


def _show_consultation(ws: Workspace, v: consultations.View) -> None:
    from accord.coordination import summaries

    raw = summaries.consultation(ws, v)
    o = out()
    if o.as_json:
        o.data(raw)
        return
    o.console.print(f"[bold]{raw['id']}[/bold]  {raw['opener']} -> {raw['addressee']}  state: {raw['state']}"
                    f"{'  finding: ' + raw['finding'] if raw['finding'] else ''}", highlight=False)
    o.console.print(f"asks: {', '.join(raw['asks'])}   seen: {raw['first_seen'] or '?'} to "
                    f"{raw['last_seen'] or '?'}   {raw['summary']}", highlight=False)
    o.table("Deadlines", ["step", "due", "status"], [(d["step"], d["due"], d["status"]) for d in raw["deadlines"]],
            None)
    o.table("History", ["at", "by", "step", "text", "evidence"],
            [(e["at"], e["by"], e["kind"] + (f" ({e['finding']})" if e["finding"] else ""), e["text"],
              " ".join(e["refs"])) for e in raw["events"]], None)
    if raw["refused"]:
        o.table("Refused events", ["id", "step", "claimed by", "reason"],
                [(r["id"], r["kind"], r["by"], r["reason"]) for r in raw["refused"]], None)


@click.group()
def consult() -> None:
    """Consultations: ask a partner about traffic from its network instead of blaming it."""


@consult.command("open")
@click.argument("addressee")
@click.option("--summary", required=True, help="What was seen, when.")
@click.option("--ask", "asks", multiple=True, type=click.Choice([a.value for a in Ask]), default=("clarify",),
              show_default=True)
@click.option("--ref", "refs", multiple=True, help="Id of a sighting, observed-data or note (repeat).")
@click.option("--tlp", type=_TLP, default="amber", show_default=True)
@click.option("--group-marking", "groups", multiple=True, help="Sharing-group marking id (repeat).")
@click.option("--first-seen", default=None, help="When the traffic was first seen (STIX timestamp).")
@click.option("--last-seen", default=None, help="When it was last seen (STIX timestamp).")
@click.option("--propose", is_flag=True, help="Store as a proposal; send it later with 'consult send'.")
@acting
@node_options
def consult_open(settings: Settings, addressee: str, summary: str, asks: tuple[str, ...], refs: tuple[str, ...],
                 tlp: str, groups: tuple[str, ...], first_seen: str | None, last_seen: str | None, propose: bool,
                 account: str) -> None:
    """Open a consultation with the partner ADDRESSEE (name or identity id)."""
    from accord.coordination import consultations

    ws = _ws(settings, account)
    _show_consultation(ws, consultations.open_consultation(ws, addressee, summary, asks, refs, Tlp.parse(tlp),
                                                           groups, first_seen, last_seen, send=not propose))


def _step(kind: Kind) -> click.Command:
    @click.argument("consultation_id")
    @click.option("--text", default="", help="Free text.")
    @click.option("--ref", "refs", multiple=True, help="Evidence object id (repeat).")
    @acting
    @node_options
    def command(settings: Settings, consultation_id: str, text: str, refs: tuple[str, ...], account: str,
                finding: str | None = None) -> None:
        from accord.coordination import consultations

        ws = _ws(settings, account)
        _show_consultation(ws, consultations.act(ws, consultation_id, kind, text, Finding(finding) if finding
                                                 else None, refs))

    command.__doc__ = {Kind.SEND: "Send a proposed consultation.", Kind.ACKNOWLEDGE: "Acknowledge (addressee).",
                       Kind.ANSWER: "Answer with a finding (addressee).", Kind.MESSAGE: "Add a message.",
                       Kind.EVIDENCE: "Add evidence (--ref).", Kind.CLOSE: "Close after the answer (opener).",
                       Kind.WITHDRAW: "Withdraw before the answer (opener)."}[kind]
    if kind is Kind.ANSWER:
        command = click.option("--finding", required=True, type=click.Choice([f.value for f in Finding]))(command)
    name = {Kind.ACKNOWLEDGE: "ack"}.get(kind, kind.value)
    return click.command(name)(command)


for _kind in Kind:
    consult.add_command(_step(_kind))


@consult.command("show")
@click.argument("consultation_id")
@acting
@node_options
def consult_show(settings: Settings, consultation_id: str, account: str) -> None:
    """A consultation's state, deadlines, history and refused events."""
    from accord.coordination import consultations

    ws = _ws(settings, account)
    _show_consultation(ws, consultations.show(ws, consultation_id))


@consult.command("list")
@acting
@node_options
def consult_list(settings: Settings, account: str) -> None:
    """Consultations visible to you."""
    from accord.coordination import consultations, summaries

    ws = _ws(settings, account)
    raw = [summaries.consultation(ws, v) for v in consultations.list_all(ws)]
    missed = {r["id"]: ",".join(d["step"] for d in r["deadlines"] if d["status"] == "missed") for r in raw}
    out().table("Consultations", ["id", "opener", "addressee", "state", "finding", "sent", "missed"],
                [(r["id"], r["opener"], r["addressee"], r["state"], r["finding"], r["sent"], missed[r["id"]])
                 for r in raw], raw)


def _show_incident(ws: Workspace, i: incidents.IncidentView) -> None:
    from accord.coordination import summaries

    raw = summaries.incident(ws, i)
    o = out()
    if o.as_json:
        o.data(raw)
        return
    norms = f"  [bold red]PROTECTED SECTOR: {', '.join(raw['protected_sectors'])}[/]" if i.norms else ""
    o.console.print(f"[bold]{i.id}[/bold] {i.name}  by {raw['owner']}  victim: {raw['victim'] or '-'}{norms}")
    o.table("Evidence", ["partner", "at", "objects", "text"],
            [(e["partner"], e["at"], " ".join(e["refs"]), e["text"]) for e in raw["evidence"]], None)
    for key in ("origin", "responsibility"):
        c = raw[key]
        o.table(f"{key}: {c['status']}{' -> ' + c['subject'] if c['subject'] else ''} "
                f"(quorum {i.rule.quorum}, threshold {i.rule.threshold})",
                ["partner", "subject", "opinion", "confidence"],
                [(a["partner"], a["subject"], a["opinion"], f"{a['confidence']} ({a['words']})")
                 for a in c["assessments"]], None)


@click.group()
def incident() -> None:
    """Joint incidents: evidence from several partners and attribution by corroboration."""


@incident.command("create")
@click.argument("name")
@click.option("--description", default="")
@click.option("--victim", default=None, help="The victim organisation (protected sectors escalate).")
@click.option("--invite", "invited", multiple=True, help="Partner to invite (repeat).")
@click.option("--consultation", "linked", multiple=True, help="Linked consultation id (repeat).")
@click.option("--tlp", type=_TLP, default="amber", show_default=True)
@click.option("--group-marking", "groups", multiple=True, help="Sharing-group marking id (repeat).")
@acting
@node_options
def incident_create(settings: Settings, name: str, description: str, victim: str | None, invited: tuple[str, ...],
                    linked: tuple[str, ...], tlp: str, groups: tuple[str, ...], account: str) -> None:
    """Open a joint incident."""
    from accord.coordination import incidents

    ws = _ws(settings, account)
    _show_incident(ws, incidents.create(ws, name, description, victim, invited, linked, Tlp.parse(tlp), groups))


@incident.command("invite")
@click.argument("incident_id")
@click.argument("partner")
@acting
@node_options
def incident_invite(settings: Settings, incident_id: str, partner: str, account: str) -> None:
    """Invite a partner (the incident's owner only)."""
    from accord.coordination import incidents

    ws = _ws(settings, account)
    _show_incident(ws, incidents.invite(ws, incident_id, partner))


@incident.command("evidence")
@click.argument("incident_id")
@click.option("--ref", "refs", multiple=True, required=True, help="Evidence object id (repeat).")
@click.option("--text", default="")
@acting
@node_options
def incident_evidence(settings: Settings, incident_id: str, refs: tuple[str, ...], text: str, account: str) -> None:
    """Contribute evidence to an incident."""
    from accord.coordination import incidents

    ws = _ws(settings, account)
    _show_incident(ws, incidents.add_evidence(ws, incident_id, refs, text))


@incident.command("show")
@click.argument("incident_id")
@acting
@node_options
def incident_show(settings: Settings, incident_id: str, account: str) -> None:
    """An incident: evidence by partner, both attribution questions, norms."""
    from accord.coordination import incidents

    ws = _ws(settings, account)
    _show_incident(ws, incidents.show(ws, incident_id))


@incident.command("list")
@acting
@node_options
def incident_list(settings: Settings, account: str) -> None:
    """Joint incidents visible to you."""
    from accord.coordination import incidents, summaries

    ws = _ws(settings, account)
    raw = [summaries.incident(ws, i) for i in incidents.list_all(ws)]
    out().table("Incidents", ["id", "name", "victim", "protected", "origin", "responsibility"],
                [(r["id"], r["name"], r["victim"], ",".join(r["protected_sectors"]), r["origin"]["status"],
                  r["responsibility"]["status"]) for r in raw], raw)


@click.command()
@click.argument("incident_id")
@click.option("--question", type=click.Choice([q.value for q in Question]), required=True)
@click.option("--subject", required=True, help="Origin: a partner. Responsibility: an intrusion set (id or name).")
@click.option("--opinion", type=click.Choice([s.stix for s in Stance]), default="agree", show_default=True)
@click.option("--confidence", required=True, help="0-100, or a word: likely, highly-likely, probably-true...")
@click.option("--explanation", default="")
@acting
@node_options
def assess(settings: Settings, incident_id: str, question: str, subject: str, opinion: str, confidence: str,
           explanation: str, account: str) -> None:
    """Record your assessment of an incident (a STIX opinion; a new one replaces your earlier one)."""
    from accord.coordination import incidents

    ws = _ws(settings, account)
    _show_incident(ws, incidents.assess(ws, incident_id, Question(question), subject, Stance.parse(opinion),
                                        parse_confidence(confidence), explanation))


@click.group()
def report() -> None:
    """Reports computed from the shared history."""


@report.command("norms")
@click.option("--since", required=True, help="STIX timestamp, e.g. 2026-11-01T00:00:00Z.")
@acting
@node_options
def report_norms(settings: Settings, since: str, account: str) -> None:
    """Incidents and sightings against protected sectors, attribution state, consultations and answers."""
    from accord.coordination import reports, summaries

    ws = _ws(settings, account)
    raw = summaries.norms(ws, reports.norms_report(ws, reports.parse_time(since)), since)
    rows = [(i["name"], i["victim"], ",".join(i["protected_sectors"]), i["origin"]["status"],
             i["responsibility"]["status"],
             "; ".join(f"{c['addressee']}: {c['state']} {c['finding'] or ''}" for c in i["consultation_states"]))
            for i in raw["incidents"]]
    rows += [(x["id"], x["description"], "", "", "", "") for x in raw["sightings"]]
    out().table(f"Protected sectors since {since}", ["incident / sighting", "victim", "sectors", "origin",
                                                      "responsibility", "consultations"], rows, raw)


@click.command()
@acting
@node_options
def record(settings: Settings, account: str) -> None:
    """The cooperation record of every partner, from the consultations and incidents you can see."""
    from accord.coordination import reports, summaries

    ws = _ws(settings, account)
    records = reports.record(ws)
    raw = [summaries.record(ws, r) for r in records.values()]
    out().table("Cooperation record", ["partner", "received", "acknowledged", "answered", "median ack",
                                       "median answer", "missed", "opened", "evidence"],
                [(x["partner"], x["received"], x["acknowledged"], x["answered"], _hours(x["median_ack_hours"]),
                  _hours(x["median_answer_hours"]), x["deadlines_missed"], x["opened"], x["evidence"])
                 for x in raw], raw)


@click.group()
def coordination() -> None:
    """Coordination settings, the periodic sweep and warnings."""


@coordination.command("sweep")
@acting
@node_options
def coordination_sweep(settings: Settings, account: str) -> None:
    """Propose consultations from your sensor's data, escalate missed deadlines and protected victims."""
    from accord.coordination import summaries, sweep

    ws = _ws(settings, account)
    r = sweep.sweep(ws)
    raw = summaries.swept(ws, r)
    out().message(f"{len(r.proposed)} consultation(s) {'sent' if ws.settings.auto_send else 'proposed'}, "
                  f"{len(r.disputed)} disputed address(es), {r.deadline_warnings} deadline and "
                  f"{r.norms_warnings} protected-sector warning(s)", raw)


@coordination.command("set")
@click.argument("name")
@click.argument("value")
@node_options
def coordination_set(settings: Settings, name: str, value: str) -> None:
    """Set quorum, threshold, ack_hours, answer_hours, auto_send, protected_sectors or collection."""
    from accord.coordination.workspace import set_setting

    set_setting(store_for(settings), name, value)
    out().message(f"{name} = {value}", {name: value})


@coordination.command("settings")
@node_options
def coordination_settings(settings: Settings) -> None:
    """Show the coordination settings."""
    from accord.coordination.workspace import read_settings

    s = read_settings(store_for(settings))
    raw = {"quorum": s.rule.quorum, "threshold": s.rule.threshold, "ack_hours": s.ack_hours,
           "answer_hours": s.answer_hours, "auto_send": s.auto_send, "protected_sectors": sorted(s.protected),
           "collection": s.collection}
    out().table("Coordination settings", ["setting", "value"],
                [(k, ", ".join(v) if isinstance(v, list) else v) for k, v in raw.items()], raw)


@coordination.command("warnings")
@acting
@node_options
def coordination_warnings(settings: Settings, account: str) -> None:
    """Warnings visible to you, most urgent first."""
    from accord.coordination import reports

    ws = _ws(settings, account)
    raw = reports.warnings(ws)
    out().table("Warnings", ["priority", "reason", "subject", "created", "description"],
                [(w.get("priority"), w.get("reason"), w.get("subject_ref"), w.get("created"), w.get("description"))
                 for w in raw], raw)


commands: list[click.Command] = [whois_partner, constituency, consult, incident, assess, report, record,
                                 coordination]
