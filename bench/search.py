"""The console's search at scale (issue 15): latency per kind of query over N stored objects, against
a scan of the stored bodies run beside it in the same run.

The store holds N objects added through TAXII Add Objects (accord.services.objects, so with the
search index written at ingest), two partners adding alternately: 97 % the TAXII benchmark's
indicators (bench/taxii_data.py: an address, a domain, a URL or a SHA-256 each, TLP:CLEAR, GREEN and
AMBER), 1 % indicators of /24 blocks, 1 % sightings of those blocks by the other partner, 1 % reports
naming an ATT&CK for ICS technique and the block they are about. A third partner searches: every
query goes through the sharing policy (services.search, as ``/search`` and ``GET /accord/search``
do, without the HTTP layer), correlates sightings, and writes its audit record when it shows
anything not TLP:CLEAR. Each query names something stored, drawn at random:

    address in a block   an address inside one of the /24 blocks (the indicator is found by containment)
    address              an address an indicator names
    subdomain            www.<a domain an indicator names> (found through its parent)
    hash                 a SHA-256 an indicator names
    ATT&CK id            T08xx, one of the reports' techniques (about N/100/40 reports each)
    words (rare)         a family and a number: one indicator's name
    words (common)       a family alone: an eighth of the indicators hold it

The baseline is what a store without the index can do: ``body LIKE '%value%'`` over the latest
versions of the readable collection, which scans every body (and cannot find an address inside a
block at all: its "found" column says how many of the queries it answered with the object the index
found; words must all appear, as in the index's search). Run with fewer queries, since each may
scan everything; a common word's scan stops at its first 100 rows and ranks nothing.

    PYTHONPATH=src:. .venv/bin/python -m bench.search --objects 1000000
    PYTHONPATH=src:. .venv/bin/python -m bench.search --objects 1000000 --postgresql
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import Text, cast, func, literal_column, select
from tests.pgserver import PgServer, find_bin

from accord.domain.model import OrgKind, Principal
from accord.domain.sharing import Role
from accord.domain.tlp import TLP2_MARKING_IDS, Tlp
from accord.services import admin
from accord.services import search as svc
from accord.store.migrate import upgrade
from accord.store.repository import Store
from accord.store.tables import objects
from bench.taxii_data import _FAMILIES, indicator

T = "2026-10-01T08:00:00.000Z"
TECHNIQUES = [f"T08{n:02d}" for n in range(40)]
BATCH = 1000


def _block(k: int) -> str:
    return f"100.{64 + (k >> 8) % 64}.{k % 256}.0/24"


def _uuid(kind: str, n: int) -> str:
    return f"{kind}--{uuid.UUID(int=(n * 11400714819323198485) % (1 << 122) + (1 << 124), version=4)}"


def stix_object(n: int, partner_identity: str) -> dict[str, Any]:
    """Object number ``n`` of the store (see the module docstring)."""
    slot, k = n % 100, n // 100
    block_id = _uuid("indicator", k * 100)
    if slot == 0:
        return {"type": "indicator", "spec_version": "2.1", "id": block_id, "created": T, "modified": T,
                "name": f"Scanning block {k}", "pattern": f"[ipv4-addr:value = '{_block(k)}']",
                "pattern_type": "stix", "valid_from": "2026-10-01T08:00:00Z", "confidence": 70,
                "object_marking_refs": [TLP2_MARKING_IDS[Tlp.GREEN]]}
    if slot == 1:
        return {"type": "sighting", "spec_version": "2.1", "id": _uuid("sighting", n), "created": T, "modified": T,
                "sighting_of_ref": block_id, "where_sighted_refs": [partner_identity], "count": 1 + k % 9,
                "first_seen": "2026-10-02T00:00:00Z", "last_seen": "2026-10-03T00:00:00Z", "confidence": 80,
                "object_marking_refs": [TLP2_MARKING_IDS[Tlp.GREEN]]}
    if slot == 2:
        technique = TECHNIQUES[k % len(TECHNIQUES)]
        return {"type": "report", "spec_version": "2.1", "id": _uuid("report", n), "created": T, "modified": T,
                "name": f"Campaign {k} against water utilities", "published": T, "report_types": ["campaign"],
                "description": f"Operators saw {technique} from block {_block(k)}.", "object_refs": [block_id],
                "external_references": [{"source_name": "mitre-ics-attack", "external_id": technique}],
                "object_marking_refs": [TLP2_MARKING_IDS[Tlp.CLEAR]]}
    return indicator(n)


def _pattern_value(n: int) -> str:
    return indicator(n)["pattern"].split("'")[1]


def queries(n_objects: int, count: int, seed: int) -> dict[str, list[str]]:
    """``count`` queries of each kind, each naming something the store holds."""
    rnd = random.Random(seed)
    blocks = max(1, (n_objects + 99) // 100)

    def of_kind(kind: int) -> int:
        while True:
            n = rnd.randrange(n_objects)
            n -= (n % 4) - kind
            if 0 <= n < n_objects and n % 100 > 2:
                return n

    return {
        "address in a block": [f"100.{64 + (k >> 8) % 64}.{k % 256}.{rnd.randrange(256)}"
                               for k in (rnd.randrange(blocks) for _ in range(count))],
        "address": [_pattern_value(of_kind(0)) for _ in range(count)],
        "subdomain": ["www." + _pattern_value(of_kind(1)) for _ in range(count)],
        "hash": [hashlib.sha256(of_kind(3).to_bytes(8, "big")).hexdigest() for _ in range(count)],
        "ATT&CK id": [rnd.choice(TECHNIQUES[:max(1, min(40, blocks))]) for _ in range(count)],
        "words (rare)": [" ".join(indicator(n)["name"].split()[:-2][:1] + [str(n)])
                         for n in (of_kind(rnd.randrange(4)) for _ in range(count))],
        "words (common)": [rnd.choice(_FAMILIES).split()[0] for _ in range(count)],
    }


@contextmanager
def store_at(database_url: str | None, postgresql: bool = False) -> Iterator[Store]:
    """A new store: SQLite in a temporary directory, the given database, or a throwaway PostgreSQL
    on loopback (Debian's postgresql, as the test command starts it)."""
    server = None
    if postgresql:
        bindir = find_bin()
        if bindir is None:
            sys.exit("--postgresql needs Debian's postgresql package (scripts/test installs it)")
        server = PgServer(bindir)
        server.start()
        database_url = server.create_database("search_bench")
    try:
        with tempfile.TemporaryDirectory(prefix="accord-search-bench-") as tmp:
            store = Store.open(database_url or f"sqlite:///{Path(tmp) / 'accord.db'}")
            try:
                upgrade(store.engine)
                yield store
            finally:
                store.close()
    finally:
        if server is not None:
            server.stop()


def populate(store: Store, n_objects: int, console: Console) -> tuple[Principal, float]:
    admin.init_node(store, "host-cert", OrgKind.GOVERNMENT_CERT, "DE")
    principals = []
    for org in ("energy-co", "grid-isac", "water-cert"):
        admin.add_org(store, org, OrgKind.COMPANY, "FR", ("energy",))
        admin.grant(store, "default", org, read=True, write=True)
        admin.add_account(store, f"{org}-analyst", org, Role.CONTRIBUTOR)
        principals.append(admin.principal_for(store, f"{org}-analyst"))
    with store.read() as tx:
        grid = tx.get_org("grid-isac").identity_id
    started = time.perf_counter()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console) as progress:
        task = progress.add_task(f"adding {n_objects:,} objects", total=n_objects)
        for start in range(0, n_objects, BATCH):
            chunk = [stix_object(n, grid) for n in range(start, min(n_objects, start + BATCH))]
            owner = principals[(start // BATCH) % 2]
            stored, failures = admin.load_bundle(store, owner, "default", chunk, batch=BATCH)
            if failures:
                sys.exit(f"the store refused objects: {failures[:3]}")
            progress.advance(task, stored)
    return principals[2], time.perf_counter() - started


def timed(run: Callable[[str], int], values: list[str]) -> tuple[list[float], list[int]]:
    times, found = [], []
    for value in values:
        t0 = time.perf_counter()
        found.append(run(value))
        times.append((time.perf_counter() - t0) * 1000)
    return times, found


def like_scan(store: Store) -> Callable[[str], int]:
    """The baseline: the latest versions whose body holds the text (no index can serve ``%x%``)."""
    o = objects.c
    # the body as text: SQLite's LIKE finds nothing in a BLOB, PostgreSQL's cast of bytea is hex
    body = (cast(o.body, Text) if store.engine.dialect.name == "sqlite"
            else func.convert_from(o.body, literal_column("'UTF8'")))

    def run(value: str) -> int:
        terms = [t.replace("%", "").replace("_", "") for t in value.split()]
        with store.read() as tx:
            rows = tx.conn.execute(select(o.id).where(o.is_latest.is_(True), o.revoked.is_(False),
                                                      *(body.like(f"%{t}%") for t in terms)).limit(svc.LIMIT)).all()
        return len(rows)

    return run


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200, help="indexed searches per kind")
    parser.add_argument("--baseline-queries", type=int, default=5, help="body scans per kind")
    parser.add_argument("--database-url", help="an empty PostgreSQL database to fill (default: SQLite in a temporary"
                                               " directory)")
    parser.add_argument("--postgresql", action="store_true",
                        help="fill a throwaway PostgreSQL server started on 127.0.0.1 instead")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    console = Console(stderr=True)
    with store_at(args.database_url, args.postgresql) as store:
        searcher, load_s = populate(store, args.objects, console)
        console.print(f"{args.objects:,} objects added in {load_s:.0f} s ({args.objects / load_s:,.0f} objects/s, "
                      "index included)")
        asked = queries(args.objects, args.queries, args.seed)
        for values in asked.values():  # warm the caches as a serving node's would be
            for value in values[:3]:
                svc.search(store, searcher, value)
        table = Table(title=f"Search over {args.objects:,} objects ({store.engine.dialect.name}), ms per query")
        for column in ("query", "p50", "p95", "p99", "results (median)", "scan p50", "scan found", "scan / index"):
            table.add_column(column, justify="left" if column == "query" else "right")
        everything: list[float] = []
        for kind, values in asked.items():
            times, found = timed(lambda v: len(svc.search(store, searcher, v).hits), values)
            everything.extend(times)
            few = values[:args.baseline_queries]
            scan_times, scan_found = timed(like_scan(store), few)
            answered = sum(1 for a, b in zip(scan_found, found[:len(few)], strict=True) if a and b)
            table.add_row(kind, f"{_pct(times, 0.5):.1f}", f"{_pct(times, 0.95):.1f}", f"{_pct(times, 0.99):.1f}",
                          f"{statistics.median(found):.0f}", f"{_pct(scan_times, 0.5):.0f}",
                          f"{answered} of {len(few)}", f"{_pct(scan_times, 0.5) / _pct(times, 0.5):.2g}x")
        table.add_row("all", f"{_pct(everything, 0.5):.1f}", f"{_pct(everything, 0.95):.1f}",
                      f"{_pct(everything, 0.99):.1f}", "", "", "", "")
        Console(width=150).print(table)


if __name__ == "__main__":
    main()
