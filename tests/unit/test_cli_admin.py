"""The operator's administration commands, and the promises every command keeps (click's test runner)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from accord.cli import cli
from tests.stixgen import indicator


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, [*args], catch_exceptions=False)


def run(*args: str, ok: bool = True) -> Any:
    result = invoke(*args)
    assert (result.exit_code == 0) is ok, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith(("{", "["))]
    return json.loads(lines[-1]) if lines else result.output


def _leaves(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, click.Command]]:
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from _leaves(sub, (*path, name))
    else:
        yield " ".join(path), command


LEAVES = list(_leaves(cli))


@pytest.mark.parametrize(("name", "command"), LEAVES, ids=[n for n, _ in LEAVES])
def test_every_command_takes_data_dir_and_json(name: str, command: click.Command) -> None:
    """README: each command takes ``--data-dir`` and ``--json``."""
    options = {opt for param in command.params for opt in getattr(param, "opts", ())}
    assert {"--data-dir", "--json"} <= options, name


def test_the_walk_reaches_the_commands_that_lacked_them() -> None:
    names = {n for n, _ in LEAVES}
    assert {"match", "intel-export", "sensor train", "sensor watch", "status", "peer list"} <= names


@pytest.fixture
def node_dir(tmp_path: Path) -> list[str]:
    d = ["--data-dir", str(tmp_path / "n"), "--json"]
    run("init", "--org", "cert-xx", "--country", "xx", *d)
    return d


@pytest.mark.parametrize("command", [["status"], ["org", "list"], ["key", "list"], ["collection", "list"],
                                     ["peer", "list"], ["identity", "show"]])
def test_commands_other_than_init_and_serve_do_not_create_a_node(tmp_path: Path, command: list[str]) -> None:
    typo = tmp_path / "typo"
    result = invoke(*command, "--data-dir", str(typo))
    assert result.exit_code == 1
    assert f"no Accord node in {typo}" in result.output and "accord init" in result.output
    assert not typo.exists()


def test_an_empty_data_directory_is_not_a_node(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = invoke("status", "--data-dir", str(tmp_path / "empty"))
    assert result.exit_code == 1 and "no Accord node" in result.output
    assert not (tmp_path / "empty" / "accord.db").exists()


def test_match_reading_a_missing_local_node_fails_and_creates_nothing(tmp_path: Path) -> None:
    log = tmp_path / "dns.json"
    log.write_text('{"query": "example.org"}\n')
    result = invoke("match", str(log), "--data-dir", str(tmp_path / "typo"), "--collection", "default", "-q")
    assert result.exit_code == 1 and "no Accord node" in result.output
    assert not (tmp_path / "typo").exists()


def test_init_on_an_existing_node_succeeds_only_when_it_matches(node_dir: list[str]) -> None:
    assert run("init", "--org", "cert-xx", "--country", "XX", *node_dir) == {"created": False}
    refused = run("init", "--org", "someone-else", "--country", "xx", *node_dir, ok=False)
    assert "a node exists already" in refused and "'cert-xx'" in refused and "'someone-else'" in refused
    assert "country 'XX' (asked 'FR')" in run("init", "--org", "cert-xx", "--country", "fr", *node_dir, ok=False)
    assert [o["name"] for o in run("org", "list", *node_dir)] == ["cert-xx"]


def test_load_with_refusals_exits_1_and_lists_each(tmp_path: Path, node_dir: list[str]) -> None:
    bundle = tmp_path / "b.json"
    bad = {**indicator(2), "pattern": "not a pattern"}
    bundle.write_text(json.dumps({"type": "bundle", "id": "bundle--11111111-1111-4111-8111-111111111111",
                                  "objects": [indicator(1), bad]}))
    raw = run("load", str(bundle), *node_dir, ok=False)
    assert raw["stored"] == 1 and raw["failed"] == 1
    assert raw["failures"][0]["file"] == str(bundle) and raw["failures"][0]["id"] == bad["id"]
    text = invoke("load", str(bundle), *node_dir[:2])
    assert text.exit_code == 1
    assert f"{bundle}: {bad['id']}: " in text.stderr


def test_load_without_refusals_exits_0(tmp_path: Path, node_dir: list[str]) -> None:
    bundle = tmp_path / "b.json"
    bundle.write_text(json.dumps({"type": "bundle", "id": "bundle--11111111-1111-4111-8111-111111111111",
                                  "objects": [indicator(1)]}))
    assert run("load", str(bundle), *node_dir)["failed"] == 0


def test_group_remove_of_a_non_member_fails(node_dir: list[str]) -> None:
    run("org", "add", "grid-op", "--kind", "company", "--country", "fr", *node_dir)
    run("group", "create", "nordic", *node_dir)
    assert "'grid-op' is not a member of group 'nordic'" in run("group", "remove", "nordic", "grid-op", *node_dir,
                                                                 ok=False)
    run("group", "add", "nordic", "grid-op", *node_dir)
    assert run("group", "show", "nordic", *node_dir)["members"] == ["grid-op"]
    assert [g["members"] for g in run("group", "list", *node_dir)] == [1]
    run("group", "remove", "nordic", "grid-op", *node_dir)
    assert run("group", "show", "nordic", *node_dir)["members"] == []


@pytest.mark.parametrize("alias", ["a/b", "", "Energy", "energy sector", "-x", "x?y=1", "é", "a" * 65,
                                   "01234567-89ab-4cde-8f01-23456789abcd"])
def test_collection_aliases_are_validated(node_dir: list[str], alias: str) -> None:
    assert "refused" in run("collection", "create", "T", "--alias", alias, *node_dir, ok=False)


def test_an_alias_cannot_be_another_collections_id_or_alias(node_dir: list[str]) -> None:
    default_id = run("collection", "list", *node_dir)[0]["id"]
    assert "refused" in run("collection", "create", "T", "--alias", default_id, *node_dir, ok=False)
    assert "exists already" in run("collection", "create", "T", "--alias", "default", *node_dir, ok=False)
    assert run("collection", "create", "T", "--alias", "energy_2-x", *node_dir)["alias"] == "energy_2-x"


def test_collection_show_lists_who_may_read_it(node_dir: list[str]) -> None:
    run("org", "add", "grid-op", "--kind", "company", "--country", "fr", *node_dir)
    run("collection", "create", "Energy", "--alias", "energy", *node_dir)
    run("collection", "grant", "energy", "grid-op", *node_dir)
    shown = run("collection", "show", "energy", *node_dir)
    assert shown["grants"] == [{"org": "cert-xx", "read": True, "write": True, "org_disabled": False},
                               {"org": "grid-op", "read": True, "write": False, "org_disabled": False}]
    assert "grid-op" in run("collection", "show", "energy", *node_dir[:2])


def test_accounts_list_disable_enable_remove(node_dir: list[str]) -> None:
    run("org", "add", "grid-op", "--kind", "company", "--country", "fr", *node_dir)
    run("account", "add", "soc", "--org", "grid-op", *node_dir)
    assert [a["name"] for a in run("account", "list", *node_dir)] == ["admin", "soc"]
    run("account", "disable", "soc", *node_dir)
    assert run("account", "list", *node_dir)[1]["disabled"] is not None
    run("account", "enable", "soc", *node_dir)
    assert run("account", "list", *node_dir)[1]["disabled"] is None
    assert "node's own" in run("account", "disable", "admin", *node_dir, ok=False)
    run("account", "remove", "soc", *node_dir)
    assert [a["name"] for a in run("account", "list", *node_dir)] == ["admin"]
    assert "no account 'soc'" in run("account", "remove", "soc", *node_dir, ok=False)


def test_organisations_disable_and_remove(tmp_path: Path, node_dir: list[str]) -> None:
    run("org", "add", "grid-op", "--kind", "company", "--country", "fr", *node_dir)
    run("account", "add", "soc", "--org", "grid-op", "--role", "contributor", *node_dir)
    run("collection", "grant", "default", "grid-op", "--write", *node_dir)
    bundle = tmp_path / "b.json"
    bundle.write_text(json.dumps({"type": "bundle", "id": "bundle--11111111-1111-4111-8111-111111111111",
                                  "objects": [indicator(1)]}))
    run("load", str(bundle), "--as", "soc", *node_dir)
    refused = run("org", "remove", "grid-op", *node_dir, ok=False)
    assert "owns 1 stored object version" in refused and "accord org disable grid-op" in refused
    run("org", "disable", "grid-op", *node_dir)
    assert run("org", "list", *node_dir)[1]["disabled"] is not None
    assert "is disabled" in run("load", str(bundle), "--as", "soc", *node_dir, ok=False)
    run("org", "enable", "grid-op", *node_dir)
    run("org", "add", "empty-co", "--kind", "company", "--country", "de", *node_dir)
    run("account", "add", "empty-soc", "--org", "empty-co", *node_dir)
    assert run("org", "remove", "empty-co", *node_dir)["accounts"] == ["empty-soc"]
    assert [o["name"] for o in run("org", "list", *node_dir)] == ["cert-xx", "grid-op"]
    assert "own organisation" in run("org", "remove", "cert-xx", *node_dir, ok=False)


def test_key_issue_with_expiry(node_dir: list[str]) -> None:
    new = run("key", "issue", "admin", "--expires", "90d", *node_dir)["api_key"]
    dated = run("key", "issue", "admin", "--expires", "2999-01-31", *node_dir)["api_key"]
    keys = {k["key_id"]: k for k in run("key", "list", *node_dir)}
    assert keys[new.split("_")[1]]["expires"] is not None
    assert keys[dated.split("_")[1]]["expires"].startswith("2999-01-31T00:00:00")
    assert "not in the future" in run("key", "issue", "admin", "--expires", "2001-01-01", *node_dir, ok=False)
    assert "--expires takes" in run("key", "issue", "admin", "--expires", "soon", *node_dir, ok=False)


def test_peer_commands_on_an_unknown_peer(node_dir: list[str]) -> None:
    for verb in ("disable", "enable", "remove"):
        assert "no peer 'nope'" in run("peer", verb, "nope", *node_dir, ok=False)


def test_intel_export_reads_the_local_node_and_answers_in_json(tmp_path: Path, node_dir: list[str]) -> None:
    bundle = tmp_path / "b.json"
    bundle.write_text(json.dumps({"type": "bundle", "id": "bundle--11111111-1111-4111-8111-111111111111",
                                  "objects": [indicator(1)]}))
    run("load", str(bundle), *node_dir)
    raw = run("intel-export", "--data-dir", node_dir[1], "--collection", "default", "--to", "zeek-intel",
              "--out", str(tmp_path / "out"), "--json")
    assert raw["files"] == [{"path": str(tmp_path / "out" / "accord.intel"), "lines": raw["files"][0]["lines"]}]
    assert (tmp_path / "out" / "accord.intel").read_text().count("\n") == raw["files"][0]["lines"] > 1


def test_match_json_gives_the_summary_as_one_object(tmp_path: Path) -> None:
    from tests.sensor.helpers import indicator as sensor_indicator
    from tests.sensor.helpers import write_bundle, write_conn

    hit = sensor_indicator("[ipv4-addr:value = '198.51.100.1']")
    bundle = write_bundle(tmp_path, [hit])
    log = write_conn(tmp_path, [("1700000000.0", "10.0.0.1", "198.51.100.1")])
    result = invoke("match", str(log), "--indicators", str(bundle), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.splitlines()[0])["indicator"] == hit["id"]
    summary = json.loads(result.stderr.strip().splitlines()[-1])
    assert summary["matches"] == 1 and summary["by_indicator"] == {hit["id"]: 1}


def test_sensor_train_and_watch_keep_the_model_in_the_data_dir_and_answer_in_json(tmp_path: Path) -> None:
    from tests.anomaly.conftest import synthetic
    from tests.anomaly.test_cli import MAPPING, write_csv

    mapping = tmp_path / "columns.json"
    mapping.write_text(json.dumps(MAPPING))
    train = write_csv(tmp_path / "train.csv", synthetic(1500, seed=1, attack_share=0.05))
    d = ["--data-dir", str(tmp_path / "n"), "--json"]
    trained = run("sensor", "train", str(train), "--format", "csv", "--columns", str(mapping), *d)
    assert trained["model"] == str(tmp_path / "n" / "sensor-model") and trained["left_out"] > 0
    assert (tmp_path / "n" / "sensor-model").is_dir()
    watch = write_csv(tmp_path / "new.csv", synthetic(600, seed=2, attack_share=0.1))
    result = invoke("sensor", "watch", str(watch), *d)
    assert result.exit_code == 0, result.output
    anomalies = [json.loads(line) for line in result.stdout.splitlines()]
    assert anomalies and all(a["score"] > a["threshold"] and a["reasons"] for a in anomalies)
    assert "flows anomalous" in result.stderr
