"""The sighting lookup's cost beside what a MISP-style plain hash store gives away.

    PYTHONPATH=src .venv/bin/python bench/psi.py [--items 5000] [--queries 400] [--seconds 3]

Side by side, on this machine, in one process:

- **OPRF lookup** (``accord.domain.oprf``, what ``accord lookup query`` does without the HTTP): per
  query the querier blinds (one X25519 and the Elligator 2 map), the holder evaluates (one X25519),
  the querier unblinds (one X25519) and looks the value up in the table; queries/s. Also the
  holder's one-off cost of the epoch table for ``--items`` values (two X25519 each, one with no
  secret that stays cached across epochs).
- **Plain hash store** (MISP's ``hashes.csv`` export: SHA-256 of each attribute value, published so
  that partners can check a value without seeing the list): SHA-256 of IPv4 addresses in dotted form
  per second, as an honest-but-curious holder of the file tries every candidate; the time to try a
  /16 and the whole IPv4 space (2^32) at that rate, on one core.

The ratio that matters is not speed: a holder of the hash file can enumerate offline, as fast as the
hash allows; a holder of the lookup table cannot try any value without the node's key, and each
try through the node costs one point of a budget (``accord.services.lookup.BUDGET`` per account and
hour), so the same /16 takes 65,536 points, and 2^32 is out of reach.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time

from accord.domain import oprf
from accord.services.lookup import BUDGET


def _rate(fn: object, seconds: float) -> tuple[float, int]:
    assert callable(fn)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn(count)
        count += 1
    return count / (time.perf_counter() - start), count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    key = os.urandom(32)
    values = [f"198.51.{(n >> 8) & 255}.{n & 255}" for n in range(args.items)]

    start = time.perf_counter()
    premultiplied = [oprf.multiply(oprf.C0, oprf.to_point(v)) for v in values]
    first = time.perf_counter() - start
    start = time.perf_counter()
    table = {oprf.holder_value(key, v, p) for v, p in zip(values, premultiplied, strict=True)}
    epoch = time.perf_counter() - start

    def query(n: int) -> None:
        value = values[n % len(values)] if n % 2 else f"203.0.113.{n & 255}"
        b = oprf.blind(value)
        hit = oprf.finalize(b, oprf.evaluate(key, b.point)) in table
        assert hit == bool(n % 2)

    start = time.perf_counter()
    for n in range(args.queries):
        query(n)
    qps = args.queries / (time.perf_counter() - start)

    def plain(n: int) -> None:
        hashlib.sha256(f"{n >> 24}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}".encode()).digest()

    hps, _ = _rate(plain, args.seconds)
    print(f"items in the holder's set             {args.items}")
    total = first + epoch
    print(f"table, first epoch (both X25519)      {total:8.2f} s  ({total / args.items * 1e6:.0f} us/item)")
    print(f"table, later epochs (cached C0*P)     {epoch:8.2f} s  ({epoch / args.items * 1e6:.0f} us/item)")
    print(f"OPRF lookup, blind+evaluate+unblind   {qps:8.0f} queries/s (one core, no HTTP)")
    print(f"plain SHA-256 of IPv4 (MISP hashes)   {hps:8.0f} tries/s (one core, Python hashlib)")
    print(f"ratio plain/OPRF per guess            {hps / qps:8.0f} x")
    print(f"enumerate a /16 from hashes.csv       {65536 / hps:8.2f} s offline")
    print(f"enumerate all IPv4 from hashes.csv    {2**32 / hps / 60:8.1f} min offline, one core")
    print(f"enumerate a /16 through the lookup    {65536 / BUDGET:8.1f} h at {BUDGET} points/h per account")
    print(f"enumerate all IPv4 through the lookup {2**32 / BUDGET / 24 / 365:8.0f} years per account")


if __name__ == "__main__":
    main()
