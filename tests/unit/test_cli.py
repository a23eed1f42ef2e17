"""The operator's command line, run in process with --json output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from accord.cli import cli
from tests.stixgen import indicator


def run(*args: str, ok: bool = True) -> Any:
    result = CliRunner().invoke(cli, [*args], catch_exceptions=False)
    assert (result.exit_code == 0) is ok, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("{") or line.startswith("[")]
    return json.loads(lines[-1]) if lines else result.output


def test_operator_workflow(tmp_path: Path) -> None:
    d = ["--data-dir", str(tmp_path / "n"), "--json"]
    first = run("init", *d)
    assert first["api_key"].startswith("acc_")
    assert run("init", *d) == {"created": False}
    run("org", "add", "grid-op", "--kind", "company", "--country", "fr", "--sectors", "energy,utilities", *d)
    key = run("account", "add", "grid-analyst", "--org", "grid-op", "--role", "contributor", *d)["api_key"]
    assert key.startswith("acc_")
    cid = run("collection", "create", "Energy sector", "--alias", "energy", *d)["id"]
    run("collection", "grant", "energy", "grid-op", "--write", *d)
    marking = run("group", "create", "nordic", *d)["marking_id"]
    assert marking.startswith("marking-definition--")
    run("group", "add", "nordic", "grid-op", *d)
    bundle = tmp_path / "b.json"
    bundle.write_text(json.dumps({"type": "bundle", "id": "bundle--11111111-1111-4111-8111-111111111111",
                                  "objects": [indicator(1), indicator(2), {"type": "x"}]}))
    loaded = run("load", str(bundle), "--collection", "energy", "--as", "grid-analyst", *d, ok=False)
    assert loaded["stored"] == 2 and loaded["failed"] == 1
    status = run("status", *d)
    assert {c["alias"]: c["objects"] for c in status["collections"]} == {"default": 0, "energy": 2}
    assert [o["name"] for o in status["organisations"]] == ["local", "grid-op"]
    assert any(c["id"] == cid for c in status["collections"])
    key_id = key.split("_")[1]
    assert any(k["key_id"] == key_id for k in run("key", "list", *d))
    run("key", "revoke", key_id, *d)
    assert run("audit", "verify", *d)["ok"] is True


def test_errors_are_plain_messages(tmp_path: Path) -> None:
    d = ["--data-dir", str(tmp_path / "n")]
    run("init", *d)
    out = run("org", "add", "x", "--kind", "company", "--country", "France", *d, ok=False)
    assert "two-letter" in out
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    assert "bad.json: not valid JSON" in run("load", str(bad), *d, ok=False)
    assert "no active API key" in run("key", "revoke", "ffff", *d, ok=False)
