"""``accord load LIST.csv|LIST.txt`` end to end through click, on a node in a data directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from accord.domain.tlp import TLP2_MARKING_IDS, Tlp
from tests.unit.test_cli_admin import invoke, run


@pytest.fixture
def node_dir(tmp_path: Path) -> list[str]:
    d = ["--data-dir", str(tmp_path / "n"), "--json"]
    run("init", "--org", "cert-xx", "--country", "xx", *d)
    return d


def _stored(node_dir: list[str]) -> list[dict[str, Any]]:
    from accord.config import Settings
    from accord.services import admin
    from accord.services import objects as svc
    from accord.store.objects import ObjectFilter
    from accord.store.repository import Store

    settings = Settings.from_env(node_dir[1])
    store = Store.open(f"sqlite:///{settings.db_path}")
    try:
        with store.read() as tx:
            col = tx.find_collection(None, "default")
            root = next(r for r in tx.list_api_roots() if r.id == col.api_root_id)
        return svc.readable_objects(store, admin.principal_for(store, "admin"), root, col.uuid,
                                    ObjectFilter(types=("indicator",)), "test")
    finally:
        store.close()


def test_a_csv_list_loads_with_options_and_reports_bad_lines(tmp_path: Path, node_dir: list[str]) -> None:
    lst = tmp_path / "iocs.csv"
    lst.write_bytes(b"ioc,kind,tags\n198.51.100.7,ip-dst,c2\nevil[.]example,domain,phishing|spam\n"
                    b"not..valid,domain,x\n198.51.100.7,ip-dst,scanner\n\xff\xfe,domain,\n")
    raw = run("load", str(lst), "--columns", "value=ioc,type=kind,label=tags", "--tlp", "green",
              "--label", "feed-x", "--confidence", "60", "--valid-for", "30d", "--account", "admin",
              *node_dir, ok=False)
    assert (raw["lines"], raw["indicators"], raw["stored"], raw["folded"], raw["header"]) == (6, 2, 2, 1, 1)
    assert [(f["file"], f["line"]) for f in raw["failures"]] == [(str(lst), 4), (str(lst), 6)]
    by_name = {o["name"]: o for o in _stored(node_dir)}
    assert by_name["198.51.100.7"]["labels"] == ["c2", "feed-x", "scanner"]
    assert by_name["evil.example"]["pattern"] == "[domain-name:value = 'evil.example']"
    assert by_name["evil.example"]["confidence"] == 60 and "valid_until" in by_name["evil.example"]
    assert by_name["evil.example"]["object_marking_refs"] == [TLP2_MARKING_IDS[Tlp.GREEN]]
    text = invoke("load", str(lst), "--columns", "value=ioc,type=kind", *node_dir[:2])
    assert text.exit_code == 1 and f"{lst}:4" in text.stderr and "not UTF-8" in text.stderr


def test_a_clean_text_list_exits_0(tmp_path: Path, node_dir: list[str]) -> None:
    lst = tmp_path / "block.txt"
    lst.write_text("# blocklist\n198.51.100.7\n2001:db8::1\nd41d8cd98f00b204e9800998ecf8427e\n")
    raw = run("load", str(lst), "--type", "auto", *node_dir)
    assert raw["stored"] == 3 and raw["failed"] == 0
    forced = run("load", str(lst), "--type", "ipv4", *node_dir, ok=False)
    assert [f["line"] for f in forced["failures"]] == [3, 4]


def test_list_options_are_refused_for_a_bundle_and_bad_options_named(tmp_path: Path, node_dir: list[str]) -> None:
    bundle = tmp_path / "b.json"
    bundle.write_text(json.dumps({"type": "bundle", "id": "bundle--11111111-1111-4111-8111-111111111111",
                                  "objects": []}))
    refused = invoke("load", str(bundle), "--tlp", "red", "--label", "x", *node_dir)
    assert refused.exit_code == 2 and "--tlp, --label: only for IOC lists" in refused.output
    lst = tmp_path / "l.txt"
    lst.write_text("198.51.100.7\n")
    assert "unknown type 'bitcoin'" in invoke("load", str(lst), "--type", "bitcoin", *node_dir).output
    assert "--columns" in invoke("load", str(lst), "--columns", "colour=1", *node_dir).output
    assert "--valid-for" in invoke("load", str(lst), "--valid-for", "2027-01-01", *node_dir).output
    assert "does not start with" in invoke("load", str(lst), "--label", "=SUM(A1)", *node_dir).output
