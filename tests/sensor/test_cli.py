"""``accord match`` and ``accord intel-export`` as a user runs them (click's test runner)."""

from __future__ import annotations

from pathlib import Path

import orjson

from tests.sensor.helpers import accord, indicator, write_bundle, write_conn

ME = "identity--00000000-0000-4000-8000-0000000000aa"
ROWS = [
    ("1700000000.0", "10.0.0.1", "198.51.100.1"),
    ("1700000010.0", "10.0.0.2", "203.0.113.9"),
    ("1700000020.0", "10.0.0.3", "198.51.100.1"),
]


def test_match_prints_json_lines_and_a_summary(tmp_path: Path) -> None:
    bad = indicator("[ipv4-addr:value = '198.51.100.1']")
    bundle = write_bundle(tmp_path, [bad, indicator("[ipv4-addr:value = '203.0.113.9']", revoked=True)])
    log = write_conn(tmp_path, ROWS, tail="truncated\n")
    sightings_file = tmp_path / "sightings.json"
    result = accord("match", log, "--indicators", bundle, "--identity", ME, "--sightings-file", sightings_file)
    assert result.exit_code == 0, result.output
    lines = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert [(m["source"], m["indicator"], m["field"], m["value"]) for m in lines] == [
        (f"{log}:9", bad["id"], "id.resp_h", "198.51.100.1"),
        (f"{log}:11", bad["id"], "id.resp_h", "198.51.100.1"),
    ]
    assert "1 expired/revoked" in result.stderr and "wrong column count 1" in result.stderr
    assert f"{log}:12" in result.stderr.replace("\n", "")
    sightings = orjson.loads(sightings_file.read_bytes())["objects"]
    assert [(s["sighting_of_ref"], s["count"]) for s in sightings] == [(bad["id"], 2)]


def test_stdin_and_mapping(tmp_path: Path) -> None:
    bundle = write_bundle(tmp_path, [indicator("[domain-name:value = 'evil.example']")])
    csv = b"when,qname\n1700000000,www.EVIL.example\n1700000001,good.example\n"
    result = accord(
        "match",
        "-",
        "--indicators",
        bundle,
        "--format",
        "csv",
        "--map",
        "when=time",
        "--map",
        "qname=domain",
        "-q",
        stdin=csv,
    )
    assert result.exit_code == 0, result.output
    assert [orjson.loads(line)["source"] for line in result.stdout.splitlines()] == ["-:2"]


def test_clear_errors(tmp_path: Path) -> None:
    log = write_conn(tmp_path, ROWS)
    result = accord("match", log)
    assert result.exit_code == 1 and "no indicators" in result.stderr
    bundle = write_bundle(tmp_path, [indicator("[ipv4-addr:value = '198.51.100.1']")])
    result = accord("match", log, "--indicators", bundle, "--sightings-file", "x")
    assert result.exit_code == 1 and "--identity" in result.stderr
    result = accord("match", tmp_path / "nope.log", "--indicators", bundle)
    assert result.exit_code == 1 and "no such file" in result.stderr


def test_intel_export(tmp_path: Path) -> None:
    bundle = write_bundle(
        tmp_path, [indicator("[ipv4-addr:value = '198.51.100.1']"), indicator("[domain-name:value = 'evil.example']")]
    )
    for target, names in [
        ("zeek-intel", ["accord.intel"]),
        ("suricata-datasets", ["domains.lst", "ipv4.lst"]),
        ("suricata-iprep", ["categories.txt", "reputation.list"]),
    ]:
        result = accord("intel-export", "--indicators", bundle, "--to", target, "--out", tmp_path / target)
        assert result.exit_code == 0, result.output
        assert sorted(p.name for p in (tmp_path / target).iterdir()) == names
    assert "198.51.100.1\tIntel::ADDR" in (tmp_path / "zeek-intel" / "accord.intel").read_text()


def test_indicators_straight_from_the_local_node_store(tmp_path: Path) -> None:
    """``--data-dir``: the local node's store as the indicator source, seen as one account sees it."""
    from accord.domain.model import OrgKind
    from accord.domain.sharing import Role
    from accord.domain.tlp import TLP2_MARKING_IDS, Tlp
    from accord.services import admin
    from accord.services.exports import LocalIndicators

    node_dir = tmp_path / "node"
    assert accord("init", "--data-dir", node_dir).exit_code == 0
    red = indicator("[ipv4-addr:value = '203.0.113.9']", object_marking_refs=[TLP2_MARKING_IDS[Tlp.RED]])
    shared = indicator("[ipv4-addr:value = '198.51.100.1']")
    bundle = write_bundle(tmp_path, [shared, red])
    assert accord("load", bundle, "--data-dir", node_dir).exit_code == 0
    log = write_conn(tmp_path, ROWS)
    admin_view = accord("match", log, "--data-dir", node_dir, "--collection", "default", "-q")
    assert admin_view.exit_code == 0, admin_view.output
    assert {orjson.loads(line)["value"] for line in admin_view.stdout.splitlines()} == {"198.51.100.1", "203.0.113.9"}

    from accord.bootstrap import open_store
    from accord.config import Settings

    store = open_store(Settings.from_env(str(node_dir)))
    admin.add_org(store, "partner", OrgKind.COMPANY, "FR", ())
    admin.grant(store, "default", "partner", read=True, write=False)
    admin.add_account(store, "partner-soc", "partner", Role.READER)
    assert [o["id"] for o in LocalIndicators(store, "partner-soc", "default").objects()] == [shared["id"]]
    partner_view = accord("match", log, "--data-dir", node_dir, "--as", "partner-soc", "--collection", "default",
                          "-q")
    assert {orjson.loads(line)["value"] for line in partner_view.stdout.splitlines()} == {"198.51.100.1"}
    missing = accord("match", log, "--data-dir", node_dir, "--as", "nobody", "--collection", "default")
    assert missing.exit_code != 0 and "no account 'nobody'" in missing.output
