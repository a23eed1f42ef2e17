"""IOC list import speed: lines a second, Accord beside a plain ``csv`` + ``stix2`` conversion.

Writes a CSV list of N lines (value, label; a mix of IPv4 addresses, CIDR ranges, domains, URLs, MD5
and SHA-256 hashes and e-mail addresses, a tenth of them defanged, one in a hundred malformed), then
times, in the same run, alternating:

- ``accord convert``: :func:`accord.interop.lists.read_list` and ``to_indicators`` (detect, refang,
  normalise, report bad lines, fold duplicates, build indicator dicts);
- ``csv+stix2``: the baseline doing the same conversion as a script would: ``csv.reader``, detection
  with ``ipaddress`` and regular expressions, ``stix2.Indicator`` objects (which check the pattern
  with the OASIS grammar) with the TLP marking and labels, serialised;
- ``accord load``: the conversion and storing through Add Objects into a fresh SQLite node
  (validation with the pattern grammar, markings, audit), as ``accord load list.csv`` does.

    .venv/bin/python -m bench.lists --lines 20000 --rounds 3
"""

from __future__ import annotations

import argparse
import csv
import io
import ipaddress
import random
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import stix2

from accord.domain.model import OrgKind
from accord.domain.tlp import Tlp
from accord.interop.lists import ListOptions, load_list, parse_columns, read_list, to_indicators
from accord.services import admin
from accord.store.migrate import upgrade
from accord.store.repository import Store

OPTIONS = ListOptions(columns=parse_columns("value=1,label=2"), tlp=Tlp.AMBER, labels=("bench",))


def make_list(lines: int, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    out = []
    for n in range(lines):
        kind = n % 7
        if kind == 0:
            value = f"198.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        elif kind == 1:
            value = f"10.{rng.randrange(256)}.{rng.randrange(256)}.0/24"
        elif kind == 2:
            value = f"host{rng.randrange(10**6)}.evil{n % 97}.example"
        elif kind == 3:
            value = f"https://cdn{rng.randrange(10**5)}.evil.example/p/{rng.randrange(10**9)}?q=1"
        elif kind == 4:
            value = f"{rng.getrandbits(128):032x}"
        elif kind == 5:
            value = f"{rng.getrandbits(256):064x}"
        else:
            value = f"user{rng.randrange(10**6)}@phish{n % 31}.example"
        if n % 10 == 3:
            value = value.replace(".", "[.]").replace("https://", "hxxps://")
        if n % 100 == 42:
            value = "not..a..value"
        out.append(f"{value},label{n % 5}")
    return ("\n".join(out) + "\n").encode()


_HEX = re.compile(r"[0-9a-f]+\Z")
_DOMAIN = re.compile(r"(?!-)[a-z0-9-]{1,63}(?:\.(?!-)[a-z0-9-]{1,63})+\Z")
_URL = re.compile(r"[a-z][a-z0-9+.-]*://[^\s/?#]+[^\s]*\Z")


def baseline(raw: bytes) -> tuple[int, float]:
    """A plain script's conversion with ``csv`` and ``stix2``: indicators made, seconds."""
    start = time.perf_counter()
    made, seen = 0, set()
    for row in csv.reader(io.StringIO(raw.decode("utf-8"))):
        if not row:
            continue
        value = row[0].strip().replace("[.]", ".").replace("hxxp", "http").lower()
        try:
            if "://" in value and _URL.match(value):
                path, text = "url:value", value
            elif "@" in value and _DOMAIN.match(value.rpartition("@")[2]):
                path, text = "email-addr:value", value
            elif len(value) in (32, 64) and _HEX.match(value):
                path, text = ("file:hashes.MD5" if len(value) == 32 else "file:hashes.'SHA-256'"), value
            elif _DOMAIN.match(value) and not value.replace(".", "").isdigit():
                path, text = "domain-name:value", value
            else:
                path, text = "ipv4-addr:value", str(ipaddress.ip_network(value, strict=False))
        except ValueError:
            continue
        if (path, text) in seen:
            continue
        seen.add((path, text))
        quoted = text.replace("\\", "\\\\").replace("'", "\\'")
        ind = stix2.Indicator(name=text, pattern=f"[{path} = '{quoted}']", pattern_type="stix",
                              object_marking_refs=[stix2.TLP_AMBER], labels=["bench", row[1]])
        ind.serialize()
        made += 1
    return made, time.perf_counter() - start


def accord_convert(raw: bytes) -> tuple[int, float]:
    start = time.perf_counter()
    made = len(to_indicators(read_list(raw, True, OPTIONS), OPTIONS))
    return made, time.perf_counter() - start


def accord_load(raw: bytes) -> tuple[int, float]:
    """Parse and store into a fresh node; only the load is timed, not creating the node."""
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'bench.db'}")
        try:
            upgrade(store.engine)
            admin.init_node(store, "host", OrgKind.GOVERNMENT_CERT, "DE")
            principal = admin.principal_for(store, "admin")
            start = time.perf_counter()
            done = load_list(store, principal, "default", read_list(raw, True, OPTIONS), OPTIONS)
            seconds = time.perf_counter() - start
            assert done.stored == done.indicators, done.problems[:3]
            return done.stored, seconds
        finally:
            store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    raw = make_list(args.lines)
    runs: dict[str, tuple[Callable[[bytes], tuple[int, float]], list[float], list[int]]] = {
        "accord convert": (accord_convert, [], []), "csv+stix2": (baseline, [], []),
        "accord load": (accord_load, [], []),
    }
    for _ in range(args.rounds):
        for fn, times, made in runs.values():
            count, seconds = fn(raw)
            made.append(count)
            times.append(seconds)
    print(f"{args.lines:,} lines, {args.rounds} rounds, median wall time")
    print(f"{'run':<16} {'indicators':>10} {'seconds':>8} {'lines/s':>10}")
    rates = {}
    for name, (_, times, made) in runs.items():
        median = statistics.median(times)
        rates[name] = args.lines / median
        print(f"{name:<16} {made[-1]:>10,} {median:>8.2f} {rates[name]:>10,.0f}")
    print(f"ratio accord convert / csv+stix2: {rates['accord convert'] / rates['csv+stix2']:.1f}x;"
          f" accord load / csv+stix2: {rates['accord load'] / rates['csv+stix2']:.1f}x")


if __name__ == "__main__":
    main()
