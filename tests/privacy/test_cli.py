"""``accord collection privacy`` and ``accord retention``: set, show, and clear errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from accord.cli import cli


def run(data: Path, *args: str, ok: bool = True, stdin: str | None = None) -> Any:
    result = CliRunner().invoke(cli, [*args, "--data-dir", str(data), "--json"], input=stdin,
                                catch_exceptions=False)
    assert (result.exit_code == 0) is ok, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith(("{", "["))]
    return json.loads(lines[-1]) if lines else result.output


def test_privacy_commands(tmp_path: Path) -> None:
    run(tmp_path, "init")
    assert any(r["category"] == "email-address" for r in run(tmp_path, "collection", "privacy", "categories"))
    got = run(tmp_path, "collection", "privacy", "set", "default", "email-address=pseudonymise",
              "internal-address=drop", "--own-range", "10.0.0.0/8")
    assert got["actions"] == {"email-address": "pseudonymise", "internal-address": "drop"}
    run(tmp_path, "collection", "privacy", "set", "default", "free-text=drop")  # merged
    shown = run(tmp_path, "collection", "privacy", "show")
    assert shown[0]["actions"] == {"email-address": "pseudonymise", "free-text": "drop", "internal-address": "drop"}
    assert shown[0]["own_ranges"] == ["10.0.0.0/8"]
    bad = run(tmp_path, "collection", "privacy", "set", "default", "phone=drop", ok=False)
    assert "unknown personal-data category 'phone'" in bad
    assert "argument 1" in run(tmp_path, "collection", "privacy", "set", "default", "free-text", ok=False)
    run(tmp_path, "group", "create", "isac")
    key = run(tmp_path, "collection", "privacy", "key", "create", "--group", "isac")["key"]
    again = run(tmp_path, "collection", "privacy", "key", "import", "--group", "isac", stdin=key + "\n")
    assert again["fingerprint"] == [k for k in run(tmp_path, "collection", "privacy", "key", "list")
                                    if k["scope"] == "group:isac"][0]["fingerprint"]
    assert key not in (tmp_path / "accord.db").read_bytes().decode("latin-1")


def test_retention_commands_and_a_bad_rule_stops_serve(tmp_path: Path) -> None:
    run(tmp_path, "init")
    got = run(tmp_path, "retention", "set", "sighting", "--days", "90")
    assert got == {"collection": None, "type": "sighting", "basis": "added", "days": 90}
    run(tmp_path, "retention", "set", "indicator", "--after", "valid_until", "--days", "30", "--collection", "default")
    status = run(tmp_path, "retention", "status")
    assert {(r["type"], r["rule"]) for r in status} == {("sighting", "90 days after it was added"),
                                                         ("indicator", "30 days after its valid_until")}
    assert "days must be 0 or more" in run(tmp_path, "retention", "set", "sighting", "--days", "-1", ok=False)
    assert "has no property valid_until" in run(tmp_path, "retention", "set", "note", "--after", "valid_until",
                                                "--days", "3", ok=False)
    assert run(tmp_path, "retention", "purge")["total"] == 0
    from accord.bootstrap import open_store
    from accord.config import Settings
    from accord.store import privacy as db

    store = open_store(Settings(tmp_path))
    with store.write() as tx:
        db.set_retention(tx, 0, "sightng", "added", 90)
    store.close()
    assert "unknown STIX type 'sightng'" in run(tmp_path, "serve", ok=False)


def test_transparency_and_object_commands(tmp_path: Path) -> None:
    run(tmp_path, "init", "--org", "cert-x")
    assert run(tmp_path, "transparency", "report", "--org", "cert-x") == []
    assert run(tmp_path, "transparency", "received", "--org", "cert-x") == []
    assert "no organisation" in run(tmp_path, "transparency", "report", "--org", "nobody", ok=False).lower()
    assert "holds no version" in run(tmp_path, "object", "revoke", "indicator--00000000-0000-4000-8000-000000000001",
                                     ok=False)
    assert "holds no version" in run(tmp_path, "object", "withdraw",
                                     "indicator--00000000-0000-4000-8000-000000000001", ok=False)
    assert run(tmp_path, "object", "withdrawals") == []


def test_lookup_query_says_when_the_node_cannot_be_reached(tmp_path: Path) -> None:
    from tests.e2e.nodeproc import free_port

    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    assert "cannot reach" in run(tmp_path, "lookup", "query", "198.51.100.7", "--url", url, "--api-key", "acc_x",
                                 ok=False)
