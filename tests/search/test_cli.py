"""``accord search find`` and ``accord search reindex`` on both backends."""

from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner

from accord.cli import cli
from accord.domain.tlp import TLP2_MARKING_IDS, Tlp
from accord.store.tables import search_addresses
from tests.conftest import Node
from tests.search.helpers import pattern_indicator, post


def _run(node: Node, tmp_path: Path, *args: str) -> tuple[int, str]:
    url = node.store.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(cli, [*args, "--data-dir", str(tmp_path), "--database-url", url])
    return result.exit_code, result.output


def test_find_searches_as_an_account(node: Node, tmp_path: Path) -> None:
    block = pattern_indicator("[ipv4-addr:value = '203.0.113.0/24']")
    red = pattern_indicator("[ipv4-addr:value = '203.0.113.9']", object_marking_refs=[TLP2_MARKING_IDS[Tlp.RED]])
    post(node.store, "energy-co-analyst", [block, red])
    code, output = _run(node, tmp_path, "search", "find", "203.0.113.9", "--as", "health-isac-analyst", "--json")
    assert code == 0, output
    shown = orjson.loads(output)
    assert [r["id"] for r in shown["results"]] == [block["id"]] and shown["kinds"] == ["address"]
    code, output = _run(node, tmp_path, "search", "find", "203.0.113.9", "--as", "energy-co-analyst", "--json")
    assert {r["id"] for r in orjson.loads(output)["results"]} == {block["id"], red["id"]}
    code, output = _run(node, tmp_path, "search", "find", "?!")
    assert code == 2 and "the search is empty" in output


def test_reindex_rebuilds_a_lost_index(node: Node, tmp_path: Path) -> None:
    post(node.store, "energy-co-analyst", [pattern_indicator(f"[ipv4-addr:value = '198.51.100.{n}']")
                                           for n in range(5)])
    with node.store.write() as tx:
        tx.conn.execute(search_addresses.delete())
    code, output = _run(node, tmp_path, "search", "find", "198.51.100.3", "--json")
    assert code == 0 and orjson.loads(output)["count"] == 0
    code, output = _run(node, tmp_path, "search", "reindex", "--json")
    assert code == 0, output
    assert orjson.loads(output.strip().splitlines()[-1]) == {"versions": 5, "indexed": 5}
    code, output = _run(node, tmp_path, "search", "find", "198.51.100.3", "--json")
    assert orjson.loads(output)["count"] == 1
