"""The coverage-guided fuzzer (tests/fuzz/atheris_target.py) for a bounded number of runs (or seconds) from a seed
corpus of valid envelopes, patterns and queries: it must finish without a crash."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from accord.domain.tlp import Tlp
from tests.stixgen import envelope, indicator

pytestmark = pytest.mark.skipif(importlib.util.find_spec("atheris") is None,
                                reason="atheris is not installed (the test extra installs it on CPython 3.11 x86-64)")

ROOT = Path(__file__).resolve().parents[2]
RUNS = 20_000
SECONDS = 45  # whichever comes first: the run stays bounded on a busy machine


def seeds() -> list[bytes]:
    bodies = [orjson.dumps(envelope(indicator(n, tlp=tlp))) for n, tlp in enumerate(Tlp)]
    bodies.append(orjson.dumps(envelope(*(indicator(n) for n in range(3)))))
    patterns = [b"[ipv4-addr:value = '203.0.113.0/24']",
                b"[file:hashes.'SHA-256' = 'aa'] AND [domain-name:value = 'x.example'] WITHIN 5 SECONDS",
                b"([network-traffic:dst_port > 80] OR [url:value LIKE 'http%']) REPEATS 2 TIMES"]
    queries = [b"added_after=2026-01-01T00:00:00Z&limit=10&next=5",
               b"match[id]=indicator--00000000-0000-4000-8000-000000000000&match[version]=all",
               b"match[type]=indicator,ipv4-addr&match[spec_version]=2.1"]
    return [b"\x00" + b for b in bodies] + [b"\x01" + p for p in patterns] + [b"\x02" + q for q in queries]


def test_a_bounded_fuzzing_run_finds_no_crash(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n, seed in enumerate(seeds()):
        (corpus / f"seed-{n}").write_bytes(seed)
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    run = subprocess.run(
        [sys.executable, "-m", "tests.fuzz.atheris_target", f"-atheris_runs={RUNS}",
         f"-max_total_time={SECONDS}", "-max_len=4096", "-seed=1", f"-artifact_prefix={tmp_path}/", str(corpus)],
        capture_output=True, text=True, timeout=240, env=env, cwd=ROOT, check=False)
    tail = run.stderr[-3000:]
    assert run.returncode == 0, tail
    done = re.search(r"Done (\d+) (?:runs )?in", run.stderr)
    assert done and int(done.group(1)) > 1_000, tail
    assert not list(tmp_path.glob("crash-*")), tail
