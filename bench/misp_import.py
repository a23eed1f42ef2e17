"""MISP import speed: events and attributes a second, Accord beside misp-stix alone on the same events.

Writes N MISP events (MISP core format, ``{"Event": {...}}`` as a feed serves them) of A attributes
each: IPv4 addresses, domains, URLs, MD5 and SHA-256 hashes and e-mail addresses, two in three with
``to_ids``, TLP tags on the event and on one attribute in five, a sighting on one in ten, and an
ATT&CK galaxy cluster on the event. Then times, in the same run, alternating:

- ``misp-stix``: the baseline, what a script using the MISP project's converter does: ``json.loads``
  of each event file, ``MISPtoSTIX21Parser().parse_misp_event``, the bundle serialised;
- ``accord convert``: :func:`accord.interop.misp.convert.convert` on the same bytes (shape checks,
  sighting uuids, ATT&CK ids, then misp-stix, then the re-marking by distribution and TLP);
- ``accord load``: the conversion and storing through Add Objects into a fresh SQLite node
  (validation, markings, audit), as ``accord load --misp-feed`` does.

    PYTHONPATH=src:. .venv/bin/python -m bench.misp_import --events 200 --attributes 20 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from misp_stix_converter import MISPtoSTIX21Parser

from accord.domain.model import OrgKind
from accord.interop.misp import convert as conv
from accord.interop.misp import load
from accord.services import admin
from accord.store.migrate import upgrade
from accord.store.repository import Store

ISAC = "5d3a3f02-45b8-4c8b-9d6e-1c1a6c7b1f10"
_TYPES = ("ip-dst", "domain", "url", "md5", "sha256", "email-src")


def _value(kind: str, rng: random.Random) -> str:
    if kind == "ip-dst":
        return f"198.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    if kind == "domain":
        return f"host{rng.randrange(10**6)}.evil{rng.randrange(97)}.example"
    if kind == "url":
        return f"https://cdn{rng.randrange(10**5)}.evil.example/p/{rng.randrange(10**9)}"
    if kind == "md5":
        return f"{rng.getrandbits(128):032x}"
    if kind == "sha256":
        return f"{rng.getrandbits(256):064x}"
    return f"user{rng.randrange(10**6)}@phish{rng.randrange(31)}.example"


def make_events(count: int, attributes: int, seed: int = 7) -> list[bytes]:
    rng = random.Random(seed)
    out = []
    for n in range(count):
        attrs = []
        for m in range(attributes):
            kind = _TYPES[(n + m) % len(_TYPES)]
            attr = {"uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "type": kind,
                    "category": "Network activity" if kind in ("ip-dst", "domain", "url") else "Payload delivery",
                    "value": _value(kind, rng), "to_ids": m % 3 != 2, "timestamp": str(1_700_000_000 + m),
                    "comment": "", "disable_correlation": False}
            if m % 5 == 0:
                attr["Tag"] = [{"name": "tlp:red"}]
            if m % 10 == 1:
                # with a uuid: misp-stix alone fails on a sighting without one (Accord derives it)
                attr["Sighting"] = [{"type": "0", "date_sighting": "1700000100", "source": "sensor",
                                     "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                                     "Organisation": {"name": "ICS-ISAC", "uuid": ISAC}}]
            attrs.append(attr)
        event = {"uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "info": f"campaign {n}",
                 "date": "2023-11-14", "timestamp": str(1_700_000_000 + n), "analysis": "2", "threat_level_id": "2",
                 "published": True, "Orgc": {"name": "CIRCL", "uuid": "55f6ea5e-2c60-40e5-964f-47a8950d210f"},
                 "Tag": [{"name": ("tlp:clear", "tlp:green", "tlp:amber")[n % 3]}], "Attribute": attrs,
                 "Galaxy": [{"type": "mitre-attack-pattern", "name": "Attack Pattern", "GalaxyCluster": [
                     {"type": "mitre-attack-pattern", "value": "Unauthorized Command Message - T0855",
                      "uuid": "40b300ba-f553-48bf-862e-9471b220d455"}]}]}
        out.append(json.dumps({"Event": event}).encode())
    return out


def misp_stix(events: list[bytes]) -> tuple[int, float]:
    start = time.perf_counter()
    made = 0
    for raw in events:
        parser = MISPtoSTIX21Parser()
        parser.parse_misp_event(json.loads(raw))
        made += len(json.loads(parser.bundle.serialize())["objects"])
    return made, time.perf_counter() - start


def accord_convert(events: list[bytes]) -> tuple[int, float]:
    start = time.perf_counter()
    made = sum(len(conv.convert(raw, f"e{n}.json").objects) for n, raw in enumerate(events))
    return made, time.perf_counter() - start


def accord_load(events: list[bytes]) -> tuple[int, float]:
    """Convert and store into a fresh node; only the load is timed, not creating the node."""
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'bench.db'}")
        try:
            upgrade(store.engine)
            admin.init_node(store, "host", OrgKind.GOVERNMENT_CERT, "DE")
            principal = admin.principal_for(store, "admin")
            start = time.perf_counter()
            done = load.load_events(store, principal, "default", [(f"e{n}.json", raw) for n, raw in enumerate(events)])
            seconds = time.perf_counter() - start
            assert not done.problems and done.stored == done.objects, done.problems[:3]
            return done.stored, seconds
        finally:
            store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--attributes", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    events = make_events(args.events, args.attributes)
    total = args.events * args.attributes
    runs: dict[str, tuple[Callable[[list[bytes]], tuple[int, float]], list[float], list[int]]] = {
        "misp-stix": (misp_stix, [], []), "accord convert": (accord_convert, [], []),
        "accord load": (accord_load, [], []),
    }
    for _ in range(args.rounds):
        for fn, times, made in runs.values():
            count, seconds = fn(events)
            made.append(count)
            times.append(seconds)
    print(f"{args.events:,} events of {args.attributes} attributes ({total:,}), {args.rounds} rounds, median wall time")
    print(f"{'run':<16} {'STIX objects':>12} {'seconds':>8} {'events/s':>9} {'attributes/s':>13}")
    rates = {}
    for name, (_, times, made) in runs.items():
        median = statistics.median(times)
        rates[name] = args.events / median
        print(f"{name:<16} {made[-1]:>12,} {median:>8.2f} {rates[name]:>9,.1f} {total / median:>13,.0f}")
    print(f"ratio accord convert / misp-stix: {rates['accord convert'] / rates['misp-stix']:.2f}x;"
          f" accord load / misp-stix: {rates['accord load'] / rates['misp-stix']:.2f}x")


if __name__ == "__main__":
    main()
