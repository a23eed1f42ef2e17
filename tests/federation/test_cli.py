"""The federation commands against real nodes: identity, peer add with fingerprint, list, sync, watch."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable

import pytest
from click.testing import CliRunner

from accord.cli import cli
from accord.domain.tlp import Tlp
from tests.federation.cluster import Node, version_of, wait_until
from tests.stixgen import indicator

pytestmark = pytest.mark.e2e


def _run(node: Node, *args: str) -> dict[str, object]:
    result = CliRunner().invoke(cli, [*args, "--data-dir", str(node.data_dir), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    parsed: dict[str, object] = json.loads(result.output.strip().splitlines()[-1])
    return parsed


def test_peering_by_cli_then_sync_status_and_watch(nodes: Callable[[str], Node]) -> None:
    a, b = nodes("A"), nodes("B")
    fp_a, fp_b = _run(a, "identity", "show")["fingerprint"], _run(b, "identity", "show")["fingerprint"]
    refused = CliRunner().invoke(cli, ["peer", "add", "B", b.url, "--fingerprint", str(fp_a),
                                       "--data-dir", str(a.data_dir)])
    assert refused.exit_code != 0 and "fingerprint mismatch" in refused.output
    key_b_at_a = _run(a, "peer", "add", "B", b.url, "--fingerprint", str(fp_b))["api_key"]
    key_a_at_b = _run(b, "peer", "add", "A", a.url, "--fingerprint", str(fp_a), "--credential", str(key_b_at_a))
    _run(a, "peer", "set", "B", "--credential", str(key_a_at_b["api_key"]))
    assert [p["name"] for p in _run(a, "peer", "list")] == ["B"]  # type: ignore[union-attr]

    watcher = subprocess.Popen([sys.executable, "-m", "accord", "watch", "--url", b.url, "--key", b.admin_key,
                                "--max-events", "1", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        posted = []
        for n in range(30):  # the stream starts at the present: publish until the watcher shows one
            if watcher.poll() is not None:
                break
            posted.append(indicator(100 + n, tlp=Tlp.GREEN))
            a.post([posted[-1]])
            time.sleep(1)
        out, err = watcher.communicate(timeout=30)
        assert out.strip(), err.decode()[-2000:]
        assert json.loads(out.decode().strip().splitlines()[-1])["id"] in {o["id"] for o in posted}
        wait_until(lambda: {version_of(o) for o in posted} <= b.held(), 15, "everything at B")
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait(timeout=10)
    rows = _run(b, "sync", "status")
    assert rows[0]["peer"] == "A" and rows[0]["agree"] is True  # type: ignore[index]
