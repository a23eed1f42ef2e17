"""How long an ``accord`` command takes from exec to exit, beside what the interpreter costs alone.

    PYTHONPATH=src .venv/bin/python bench/startup.py [--runs 15] [--before OTHER/src]

Each command runs ``--runs`` times as a new process (the installed ``accord`` script beside this
interpreter), after one warm-up run that is not counted; the figures are wall-clock median and 90th
percentile. ``status``, ``org list`` and ``audit verify`` open a node that the script initialises in a
temporary directory (SQLite).

``--before OTHER/src`` also runs each ``accord`` command with that source tree first on
``PYTHONPATH`` (an older checkout, e.g. ``git archive 8a9ae4a src | tar -x -C /tmp/before``), right
after this tree's runs of the same command, and prints its figures in two more columns.

The baselines run in the same session, the same way:

- ``python -c pass``: the interpreter's own start-up, the floor of any command;
- ``import click``: the floor of a click program;
- ``import sqlalchemy``: the floor of a command that opens the store (the store is SQLAlchemy Core);
- ``... and alembic.command``: what migrating costs on top (a store at head no longer loads Alembic);
- ``eager import (before)``: importing what ``accord.cli`` imported before its commands imported their
  libraries where they run (the command modules' top-level imports at commit 8a9ae4a): what every
  command, even ``--help``, cost then.

Bytecode: the processes get ``PYTHONPYCACHEPREFIX`` set to a temporary directory (and no
``PYTHONDONTWRITEBYTECODE``), so every run after the warm-up reads compiled modules, as an installed
package does; the sandbox's ``PYTHONDONTWRITEBYTECODE=1`` would otherwise make each run recompile
Accord's own sources.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# What the command modules imported at their top before (8a9ae4a), and bootstrap then imported too.
EAGER_BEFORE = (
    "click", "orjson", "httpx", "rich.console", "rich.live", "rich.markup", "rich.progress", "rich.table",
    "sqlalchemy", "alembic.command", "alembic.config", "starlette.applications",
    "accord.web.app", "accord.coordination.scheduler", "accord.federation.service", "accord.store.migrate",
    "accord.store.repository", "accord.store.secrets", "accord.services.admin", "accord.services.exports",
    "accord.coordination.constituencies", "accord.coordination.consultations", "accord.coordination.incidents",
    "accord.coordination.reports", "accord.coordination.summaries", "accord.coordination.sweep",
    "accord.coordination.workspace", "accord.federation.checkpoint", "accord.federation.peers",
    "accord.federation.pull", "accord.federation.runtime", "accord.sensor.exports", "accord.sensor.feeds",
    "accord.sensor.pipeline", "accord.sensor.readers", "accord.sensor.sources", "accord.sensor.spark",
    "accord.sensor.warninglists", "accord.sensor.indicators", "accord.sensor.kernel", "accord.sensor.sightings",
    "accord.sensor.taxii", "accord.sensor.anomaly.stix", "stix2patterns.validator", "multiprocessing",
    "concurrent.futures.process",
)


def timed(argv: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """Median and 90th percentile wall time, in seconds, of ``runs`` runs after one warm-up."""
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.9 * (len(times) - 1)))]


def ms(figures: tuple[float, float] | None) -> str:
    return "" if figures is None else f"{figures[0] * 1000:7.0f} ms {figures[1] * 1000:7.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--before", type=Path, help="The src folder of another checkout to run beside this one.")
    args = parser.parse_args()
    python = sys.executable
    accord = str(Path(python).parent / "accord")
    with tempfile.TemporaryDirectory(prefix="accord-startup-") as tmp:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        before_env = None
        if args.before:
            before_env = {**env, "PYTHONPATH": os.pathsep.join([str(args.before.resolve()), env.get("PYTHONPATH", "")])}
        node = str(Path(tmp) / "node")
        subprocess.run([accord, "init", "--data-dir", node], env=env, stdout=subprocess.DEVNULL, check=True)
        rows: list[tuple[str, list[str]]] = [
            ("python -c pass", [python, "-c", "pass"]),
            ("python -c 'import click'", [python, "-c", "import click"]),
            ("python -c 'import sqlalchemy'", [python, "-c", "import sqlalchemy"]),
            ("... and alembic.command", [python, "-c", "import sqlalchemy, alembic.command, alembic.config"]),
            ("eager import (before)", [python, "-c", "import " + ", ".join(EAGER_BEFORE)]),
            ("accord --help", [accord, "--help"]),
            ("accord match --help", [accord, "match", "--help"]),
            ("accord peer --help", [accord, "peer", "--help"]),
            ("accord status", [accord, "status", "--data-dir", node]),
            ("accord status --json", [accord, "status", "--data-dir", node, "--json"]),
            ("accord org list --json", [accord, "org", "list", "--data-dir", node, "--json"]),
            ("accord audit verify", [accord, "audit", "verify", "--data-dir", node]),
        ]
        print(f"{args.runs} runs each after a warm-up; load average {os.getloadavg()[0]:.2f} at start")
        header = f"{'command':34} {'median':>10} {'p90':>10}"
        print(header + (f" {'before: median':>16} {'p90':>10}" if before_env else ""))
        for label, argv in rows:
            after = timed(argv, env, args.runs)
            before = timed(argv, before_env, args.runs) if before_env and label.startswith("accord") else None
            print(f"{label:34} {ms(after)}" + (f"      {ms(before)}" if before else ""), flush=True)
        print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
