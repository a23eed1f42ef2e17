"""``accord advisory`` in process with --json, on a node made with the CLI itself."""

from __future__ import annotations

import json
from pathlib import Path

from tests.coordination.test_cli import run
from tests.public.helpers import raw_content


def test_draft_show_edit_approve_and_reject_from_the_command_line(tmp_path: Path) -> None:
    d = ["--data-dir", str(tmp_path / "n"), "--json"]
    run("init", "--org", "cert-de", "--country", "DE", *d)
    run("account", "add", "writer", "--org", "cert-de", "--role", "contributor", *d)
    source = tmp_path / "advisory.json"
    source.write_text(json.dumps(raw_content()), encoding="utf-8")
    drafted = run("advisory", "draft", "--file", str(source), "--as", "writer", *d)
    assert drafted["state"] == "draft" and drafted["content"]["software"] == ["acme:r1"]
    shown = run("advisory", "show", drafted["id"], *d)
    shown["content"]["texts"]["en"]["title"] = "Patch now"
    (tmp_path / "edited.json").write_text(json.dumps(shown), encoding="utf-8")  # show's own output goes back
    assert run("advisory", "edit", drafted["id"], "--file", str(tmp_path / "edited.json"), *d)["content"][
        "texts"]["en"]["title"] == "Patch now"
    refused = run("advisory", "approve", drafted["id"], "--as", "writer", *d, ok=False)
    assert "needs the administrator role" in refused
    approved = run("advisory", "approve", drafted["id"], *d)
    assert approved["state"] == "published" and approved["published"]
    other = run("advisory", "draft", "--file", str(source), *d)
    assert run("advisory", "reject", other["id"], "--reason", "duplicate", *d)["reason"] == "duplicate"
    assert [a["state"] for a in run("advisory", "list", *d)] == ["published", "rejected"]
    assert [a["id"] for a in run("advisory", "list", "--state", "published", *d)] == [drafted["id"]]
    text = run("advisory", "show", drafted["id"], "--data-dir", str(tmp_path / "n"))
    assert "(fr) Update your routers (fr)" in text and "Que faire maintenant: Installez" in text


def test_bad_files_are_named_with_the_line(tmp_path: Path) -> None:
    d = ["--data-dir", str(tmp_path / "n"), "--json"]
    run("init", "--org", "cert-de", "--country", "DE", *d)
    bad = tmp_path / "bad.json"
    bad.write_text('{"language": "en",\n "texts": {,}}', encoding="utf-8")
    assert f"{bad}:2: not JSON" in run("advisory", "draft", "--file", str(bad), *d, ok=False)
    bad.write_text('["a list"]', encoding="utf-8")
    assert f"{bad}:1: expected a JSON object" in run("advisory", "draft", "--file", str(bad), *d, ok=False)
    bad.write_text(json.dumps({**raw_content(), "software": ["no spaces allowed here"]}), encoding="utf-8")
    assert "neither a CPE 2.3 name" in run("advisory", "draft", "--file", str(bad), *d, ok=False)
    bad.write_bytes(b"\xff\xfe")
    assert "cannot read it" in run("advisory", "draft", "--file", str(bad), *d, ok=False)
    assert "cannot read it" in run("advisory", "draft", "--file", str(tmp_path / "absent.json"), *d, ok=False)
    assert "either --incident" in run("advisory", "draft", *d, ok=False)
    assert "no advisory" in run("advisory", "approve", "report--00000000-0000-4000-8000-000000000000", *d, ok=False)
    assert run("advisory", "list", *d) == []
