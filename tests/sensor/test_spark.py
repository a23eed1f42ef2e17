"""``accord match --engine spark``: Spark local mode gives exactly the in-process answer (one run: slow)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.sensor.helpers import accord, indicator, write_bundle, write_conn

pytestmark = pytest.mark.slow


def test_spark_local_mode_matches_like_in_process(tmp_path: Path) -> None:
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java (make test installs default-jre-headless)")
    logs = tmp_path / "logs"
    logs.mkdir()
    rows = [(f"17000000{i:02d}.0", f"10.0.0.{i % 7}", f"198.51.100.{i % 5}") for i in range(40)]
    write_conn(logs, rows[:20], "a.log", tail="bad\tline\n")
    write_conn(logs, rows[20:], "b.log")
    bundle = write_bundle(
        tmp_path,
        [
            indicator("[ipv4-addr:value = '198.51.100.3']"),
            indicator("[ipv4-addr:value = '10.0.0.0/30']"),
            indicator("[ipv4-addr:value = '198.51.100.4'] FOLLOWEDBY [ipv4-addr:value = '10.0.0.6']"),
        ],
    )
    outputs = {}
    for engine in ("inprocess", "spark"):
        result = accord("match", logs, "--indicators", bundle, "--engine", engine)
        assert result.exit_code == 0, result.output
        outputs[engine] = sorted(result.stdout.splitlines())
        assert "wrong column count 1" in result.stderr and "40" in result.stderr
    assert outputs["spark"] == outputs["inprocess"]
    assert len(outputs["spark"]) > 20
