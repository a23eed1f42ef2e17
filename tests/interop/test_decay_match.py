"""``accord match --decay`` and ``accord intel-export --decay`` on indicators from bundle files."""

from __future__ import annotations

from pathlib import Path

import orjson

from accord.stix.timestamps import micros_to_timestamp, now_micros
from tests.sensor.helpers import accord, indicator, write_bundle, write_conn

DAY = 86_400_000_000


def _ago(days: float) -> str:
    return micros_to_timestamp(now_micros() - int(days * DAY))


def _bundle(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    old = indicator("[ipv4-addr:value = '198.51.100.1']", valid_from=_ago(300))
    resighted = indicator("[ipv4-addr:value = '198.51.100.2']", valid_from=_ago(300))
    young = indicator("[ipv4-addr:value = '198.51.100.3']", valid_from=_ago(1), confidence=90)
    sighting = {"type": "sighting", "spec_version": "2.1", "id": "sighting--0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
                "created": _ago(0), "modified": _ago(0), "sighting_of_ref": resighted["id"], "last_seen": _ago(2)}
    ids = {"old": old["id"], "resighted": resighted["id"], "young": young["id"]}
    return write_bundle(tmp_path, [old, resighted, young, sighting]), ids


def test_intel_export_leaves_decayed_indicators_out(tmp_path: Path) -> None:
    bundle, _ = _bundle(tmp_path)
    plain = accord("intel-export", "--indicators", bundle, "--to", "suricata-datasets", "--out", tmp_path / "a")
    assert plain.exit_code == 0, plain.output
    assert (tmp_path / "a" / "ipv4.lst").read_text().split() == ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
    decayed = accord("intel-export", "--indicators", bundle, "--to", "suricata-datasets", "--out", tmp_path / "b",
                     "--decay", "30d,2,30")
    assert decayed.exit_code == 0, decayed.output
    assert (tmp_path / "b" / "ipv4.lst").read_text().split() == ["198.51.100.2", "198.51.100.3"]
    bad = accord("intel-export", "--indicators", bundle, "--to", "zeek-intel", "--out", tmp_path / "c",
                 "--decay", "30d,two,30")
    assert bad.exit_code == 1 and "--decay" in bad.output and "numbers" in bad.output


def test_match_with_decay_matches_only_live_indicators(tmp_path: Path) -> None:
    bundle, ids = _bundle(tmp_path)
    rows = [("1700000000.0", "10.0.0.1", f"198.51.100.{n}") for n in (1, 2, 3)]
    log = write_conn(tmp_path, rows)
    result = accord("match", log, "--indicators", bundle, "--decay", "30d,2,30", "-q")
    assert result.exit_code == 0, result.output
    assert sorted(orjson.loads(line)["indicator"] for line in result.stdout.splitlines()) == sorted(
        [ids["resighted"], ids["young"]])
