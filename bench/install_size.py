"""What ``make run`` installs (the node: ``pip install -e .``) beside what ``make test`` installs (every extra).

    .venv/bin/python bench/install_size.py [--extras test,sensor,ml,bench] [--keep DIR]

Makes two fresh virtual environments with the interpreter that runs this script, installs this
checkout into each with pip (from the package registry, or pip's cache), and prints for each the
size of its site-packages (``du -sk``), the number of distributions installed and the time pip took.
Both include pip and setuptools as ``python -m venv`` leaves them. Then, in the node's environment,
``accord match`` must name the sensor extra and ``accord --help`` must work: the check that a node
installed without the extras is whole.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def install(where: Path, spec: str) -> tuple[int, int, float]:
    """Size of site-packages in KiB, distributions installed, seconds pip took."""
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True)
    pip = [str(where / "bin" / "python"), "-m", "pip"]
    start = time.perf_counter()
    subprocess.run([*pip, "install", "--quiet", "-e", spec], check=True, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    site = next(where.glob("lib/python*/site-packages"))
    kib = int(subprocess.run(["du", "-sk", str(site)], capture_output=True, text=True, check=True).stdout.split()[0])
    listed = subprocess.run([*pip, "list", "--format=freeze"], capture_output=True, text=True, check=True).stdout
    return kib, len(listed.splitlines()), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--extras", default="test,sensor,ml,bench")
    parser.add_argument("--keep", type=Path, help="Make the environments here and leave them.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="accord-install-") as tmp:
        base = args.keep or Path(tmp)
        rows = [("make run: the node (.)", base / "node", str(ROOT)),
                (f"make test: .[{args.extras}]", base / "full", f"{ROOT}[{args.extras}]")]
        print(f"{'installed':36} {'site-packages':>14} {'distributions':>14} {'pip install':>12}")
        for label, where, spec in rows:
            kib, count, seconds = install(where, spec)
            print(f"{label:36} {kib / 1024:11,.0f} MiB {count:14} {seconds:10.0f} s", flush=True)
        accord = str(base / "node" / "bin" / "accord")
        assert subprocess.run([accord, "--help"], capture_output=True, check=False).returncode == 0
        log = base / "empty.log"
        log.write_text("")
        done = subprocess.run([accord, "match", str(log), "--indicators", str(log)], capture_output=True, text=True,
                              check=False)
        print(f"node environment, accord match: exit {done.returncode}: {done.stderr.strip()}")


if __name__ == "__main__":
    main()
