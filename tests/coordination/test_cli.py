"""The coordination commands, in process with --json, on a node made with the CLI itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from accord.cli import cli


def run(*args: str, ok: bool = True) -> Any:
    result = CliRunner().invoke(cli, [*args], catch_exceptions=False)
    assert (result.exit_code == 0) is ok, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith(("{", "["))]
    return json.loads(lines[-1]) if lines else result.output


def test_consultation_incident_and_reports_from_the_command_line(tmp_path: Path) -> None:
    d = ["--data-dir", str(tmp_path / "n"), "--json"]
    run("init", "--org", "cert-de", "--country", "DE", *d)
    for name, sectors in (("grid-fr", "energy"), ("hospital-nl", "health-care")):
        run("org", "add", name, "--kind", "company", "--country", name[-2:], "--sectors", sectors, *d)
        run("collection", "grant", "default", name, "--write", *d)
        run("account", "add", f"{name}-analyst", "--org", name, "--role", "contributor", *d)
    grid, hosp = ["--as", "grid-fr-analyst"], ["--as", "hospital-nl-analyst"]
    run("constituency", "declare", "--network", "203.0.113.0/24", "--asn", "AS64501", "--domain", "grid.example",
        *grid, *d)
    run("constituency", "declare", "--network", "203.0.0.0/16", *d)
    who = run("whois-partner", "203.0.113.7", *hosp, *d)
    assert who["owner"] == "grid-fr" and not who["disputed"]
    assert [(c["partner"], c["role"]) for c in who["claims"]] == [("grid-fr", "holder"), ("cert-de", "overlap")]
    run("constituency", "declare", "--network", "203.0.113.0/24", *hosp, *d)
    disputed = run("whois-partner", "203.0.113.7", *d)
    assert disputed["disputed"] and disputed["owner"] is None and disputed["holders"] == ["grid-fr", "hospital-nl"]
    table = run("whois-partner", "203.0.113.7", "--data-dir", str(tmp_path / "n"))
    assert "DISPUTED between grid-fr," in table and "hospital-nl" in table  # the title may wrap
    opened = run("consult", "open", "grid-fr", "--summary", "SSH brute force from 203.0.113.7",
                 "--ask", "stop", "--ask", "preserve-evidence", "--first-seen", "2026-11-18T10:00:00Z",
                 "--last-seen", "2026-11-19T02:30:00.5Z", *hosp, *d)
    cid = opened["id"]
    assert opened["state"] == "open" and opened["asks"] == ["stop", "preserve-evidence"]
    assert (opened["first_seen"], opened["last_seen"]) == ("2026-11-18T10:00:00.000000Z", "2026-11-19T02:30:00.500000Z")
    backwards = run("consult", "open", "grid-fr", "--summary", "x", "--first-seen", "2026-11-19T00:00:00Z",
                    "--last-seen", "2026-11-18T00:00:00Z", *hosp, *d, ok=False)
    assert "earlier than first_seen" in backwards
    assert "first_seen" in run("consult", "open", "grid-fr", "--summary", "x", "--first-seen", "monday", *hosp, *d,
                               ok=False)
    forged = run("consult", "answer", cid, "--finding", "benign-or-technical-fault", *d, ok=False)
    assert "not a party" in forged
    early = run("consult", "answer", cid, "--finding", "declined", *grid, *d, ok=False)
    assert "while it is open" in early
    assert "no consultation" in run("consult", "show", "x-accord-consultation--nope", *grid, *d, ok=False)
    run("consult", "ack", cid, "--text", "on it", *grid, *d)
    answered = run("consult", "answer", cid, "--finding", "compromised-host-being-handled", "--text", "cleaned",
                   *grid, *d)
    assert answered["state"] == "answered" and answered["finding"] == "compromised-host-being-handled"
    assert [e["kind"] for e in answered["events"]] == ["send", "acknowledge", "answer"]
    assert [c["state"] for c in run("consult", "list", *hosp, *d)] == ["answered"]
    incident = run("incident", "create", "Ransomware at hospital", "--victim", "hospital-nl",
                   "--consultation", cid, *hosp, *d)
    assert incident["protected_sectors"] == ["healthcare"]
    iid = incident["id"]
    run("incident", "evidence", iid, "--ref", "sighting--00000000-0000-4000-8000-000000000001", *d)
    run("incident", "invite", iid, "grid-fr", *hosp, *d)
    actor = "intrusion-set--00000000-0000-4000-8000-0000000000a1"
    run("assess", iid, "--question", "responsibility", "--subject", actor, "--confidence", "likely", *hosp, *d)
    shown = run("assess", iid, "--question", "responsibility", "--subject", actor, "--opinion", "strongly-agree",
                "--confidence", "90", *d)
    assert shown["responsibility"]["status"] == "concluded" and shown["invited"] == ["grid-fr"]
    assert {a["words"] for a in shown["responsibility"]["assessments"]} == {"Likely/Probable",
                                                                            "Highly Likely/Almost Certain"}
    assert {a["admiralty"] for a in shown["responsibility"]["assessments"]} == {"2 - Probably True",
                                                                                "1 - Confirmed by other sources"}
    norms = run("report", "norms", "--since", "2020-01-01", *grid, *d)
    assert [i["id"] for i in norms["incidents"]] == [iid]
    assert norms["incidents"][0]["consultation_states"][0]["finding"] == "compromised-host-being-handled"
    assert "--since" in run("report", "norms", "--since", "yesterday", *d, ok=False)
    records = {r["partner"]: r for r in run("record", *hosp, *d)}
    assert records["grid-fr"]["received"] == 1 and records["grid-fr"]["answered"] == 1
    assert records["grid-fr"]["median_ack_hours"] is not None and records["cert-de"]["evidence"] == 1
    warnings = run("coordination", "warnings", *grid, *d)
    assert [(w["priority"], w["subject_ref"]) for w in warnings] == [("top", iid)]
    assert run("coordination", "sweep", *hosp, *d)["proposed"] == []
    run("coordination", "set", "quorum", "3", *d)
    assert run("coordination", "settings", *d)["quorum"] == 3
    assert "unknown coordination setting" in run("coordination", "set", "nope", "1", *d, ok=False)
    assert run("audit", "verify", *d)["ok"] is True
    plain = run("consult", "show", cid, "--data-dir", str(tmp_path / "n"))
    assert "History" in plain and "compromised-host-being-handled" in plain
