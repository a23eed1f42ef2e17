"""Load: 50 concurrent TAXII clients mixing reads and writes for 60 s, against each server in turn.

Each server is a real process on 127.0.0.1 started fresh and seeded with the same indicators
(envelopes of 100); then ``--clients`` threads, each with its own keep-alive connection, loop for
``--seconds`` over a fixed mix drawn from one seeded random stream per client:

    60 %  GET objects/?match[id]=<a stored id>     (TAXII 2.1 section 5.4, filtered)
    15 %  GET objects/<id>/                        (section 5.6)
    10 %  GET manifest/?limit=100                  (section 5.3)
    15 %  POST objects/ with an envelope of 10 new indicators  (section 5.5)

A request counts as an error when the connection fails, the status is not the one TAXII gives
(200, or 202 with every object a success for a POST), or a read of a stored id comes back empty.
The table gives requests/s over the whole window and p50/p99 latency per kind and overall. The
node serves as ``make run`` configures it (``accord serve``, its default rate limit and body
limit), with ``--workers`` processes; medallion 3.0.0 (the OASIS reference server, memory backend)
runs beside it as the baseline. Clients and servers share the machine's cores: the table prints the
client's own CPU use so that the reader can tell when the load generator, not the server, was the
limit.

    .venv/bin/python -m bench.load --servers accord-sqlite,accord-postgresql,medallion
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

import orjson
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from tests.pgserver import PgServer, find_bin

from bench.servers import AccordServer, MedallionServer, Server
from bench.taxii_data import indicator

TAXII = "application/taxii+json;version=2.1"
MIX = (("filtered", 60), ("by id", 15), ("manifest", 10), ("post", 15))
KINDS = [k for k, _ in MIX]
console = Console() if sys.stdout.isatty() else Console(width=240)


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    errors: list[str] = field(default_factory=list)


class Client(threading.Thread):
    """One keep-alive connection running the mix until ``stop`` is set."""

    def __init__(self, server: Server, number: int, ids: list[str], next_serial: Callable[[], int],
                 stop: threading.Event, seed: int) -> None:
        super().__init__(daemon=True)
        self.server, self.ids, self.next_serial, self.stop = server, ids, next_serial, stop
        self.rng = random.Random(seed * 1000 + number)
        self.tally = Tally()
        url = urlsplit(server.objects_url)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.objects = url.path
        self.manifest = url.path.removesuffix("objects/") + "manifest/"
        self.headers = {**server.headers, "Accept": TAXII}
        self.kinds = self.rng.choices(KINDS, weights=[w for _, w in MIX], k=100_000)

    def _request(self, conn: http.client.HTTPConnection, method: str, path: str,
                 body: bytes | None = None) -> tuple[int, bytes]:
        headers = self.headers if body is None else {**self.headers, "Content-Type": TAXII}
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()

    def _one(self, conn: http.client.HTTPConnection, kind: str) -> str | None:
        """Make one request of ``kind``; returns what was wrong, or None."""
        if kind == "post":
            objects = [indicator(self.next_serial()) for _ in range(10)]
            status, content = self._request(conn, "POST", self.objects, orjson.dumps({"objects": objects}))
            if status != 202:
                return f"POST {status}: {content[:120]!r}"
            if orjson.loads(content).get("success_count") != 10:
                return f"POST not all stored: {content[:200]!r}"
            return None
        if kind == "manifest":
            status, content = self._request(conn, "GET", self.manifest + "?limit=100")
        else:
            target = quote(self.rng.choice(self.ids))
            path = f"{self.objects}?match[id]={target}" if kind == "filtered" else f"{self.objects}{target}/"
            status, content = self._request(conn, "GET", path)
        if status != 200:
            return f"GET {kind} {status}: {content[:120]!r}"
        if kind != "manifest" and not orjson.loads(content).get("objects"):
            return f"GET {kind}: a stored object came back empty"
        return None

    def run(self) -> None:
        conn: http.client.HTTPConnection | None = None
        i = 0
        while not self.stop.is_set():
            kind = self.kinds[i % len(self.kinds)]
            i += 1
            if conn is None:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            began = time.perf_counter()
            try:
                problem = self._one(conn, kind)
            except (OSError, http.client.HTTPException) as exc:
                problem = f"{kind}: {type(exc).__name__}: {exc}"
                conn.close()
                conn = None
            elapsed = time.perf_counter() - began
            if problem is None:
                self.tally.latencies[kind].append(elapsed)
            else:
                self.tally.errors.append(problem)
        if conn is not None:
            conn.close()


@dataclass
class Result:
    server: str
    seconds: float
    latencies: dict[str, list[float]]
    errors: list[str]
    client_cpu: float  # the load generator's CPU seconds per wall second

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values()) + len(self.errors)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def seed_server(server: Server, n: int, progress: Progress) -> list[str]:
    """Store ``n`` indicators in envelopes of 100; returns their ids."""
    url = urlsplit(server.objects_url)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port or 80, timeout=120)
    headers = {**server.headers, "Accept": TAXII, "Content-Type": TAXII}
    task = progress.add_task(f"seeding {server.name}", total=n)
    ids = []
    for start in range(0, n, 100):
        chunk = [indicator(i) for i in range(start, min(n, start + 100))]
        conn.request("POST", url.path, body=orjson.dumps({"objects": chunk}), headers=headers)
        resp = conn.getresponse()
        content = resp.read()
        if resp.status != 202:
            raise RuntimeError(f"seeding {server.name}: HTTP {resp.status} {content[:200]!r}")
        ids += [o["id"] for o in chunk]
        progress.advance(task, len(chunk))
    conn.close()
    return ids


def load(server: Server, ids: list[str], clients: int, seconds: float, first_serial: int, seed: int,
         progress: Progress) -> Result:
    lock = threading.Lock()
    serial = [first_serial]

    def next_serial() -> int:
        with lock:
            serial[0] += 1
            return serial[0]

    stop = threading.Event()
    threads = [Client(server, c, ids, next_serial, stop, seed) for c in range(clients)]
    task = progress.add_task(f"{clients} clients on {server.name}", total=seconds)
    cpu, began = time.process_time(), time.monotonic()
    for t in threads:
        t.start()
    while (elapsed := time.monotonic() - began) < seconds:
        time.sleep(0.5)
        progress.update(task, completed=min(seconds, elapsed))
    stop.set()
    for t in threads:
        t.join(timeout=60)
    wall = time.monotonic() - began
    latencies: dict[str, list[float]] = {k: [] for k in KINDS}
    errors: list[str] = []
    for t in threads:
        for k in KINDS:
            latencies[k] += t.tally.latencies[k]
        errors += t.tally.errors
    return Result(server.name, wall, latencies, errors, (time.process_time() - cpu) / wall)


def _ms(values: list[float], q: float) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.1f}"


def table(results: list[Result], clients: int) -> Table:
    t = Table(title=f"{clients} concurrent TAXII clients, mixed reads and writes")
    for col in ("server", "requests", "requests/s", "vs medallion", "errors", "p50 ms", "p99 ms",
                *(f"{k} p50/p99 ms" for k in KINDS), "objects written", "client CPU"):
        t.add_column(col, justify="left" if col == "server" else "right")
    base = next((r for r in results if r.server.startswith("medallion")), None)
    for r in results:
        every = [x for v in r.latencies.values() for x in v]
        ratio = f"{r.rate / base.rate:.1f}x" if base is not None and base.rate else "-"
        t.add_row(r.server, f"{r.requests:,}", f"{r.rate:,.0f}", ratio, str(len(r.errors)), _ms(every, 0.5),
                  _ms(every, 0.99), *(f"{_ms(r.latencies[k], 0.5)} / {_ms(r.latencies[k], 0.99)}" for k in KINDS),
                  f"{len(r.latencies['post']) * 10:,}", f"{r.client_cpu:.2f} cores")
    return t


SERVERS = ("accord-sqlite", "accord-postgresql", "medallion")


def make_server(name: str, pg: PgServer | None, workers: int) -> Server:
    if name == "accord-sqlite":
        return AccordServer("Accord, SQLite", workers=workers)
    if name == "accord-postgresql":
        assert pg is not None
        return AccordServer("Accord, PostgreSQL", pg.create_database(f"load_{os.getpid()}"), workers)
    return MedallionServer(100)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--servers", default="accord-sqlite,accord-postgresql,medallion")
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--objects", type=int, default=10_000, help="indicators stored before the load")
    p.add_argument("--workers", type=int, default=2, help="accord serve --workers")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    pg: PgServer | None = None
    results: list[Result] = []
    console.print(f"load average before: {os.getloadavg()[0]:.2f} (cores: {os.cpu_count()})")
    names = args.servers.split(",")
    if unknown := [n for n in names if n not in SERVERS]:
        sys.exit(f"unknown server {unknown[0]!r}: choose from {', '.join(SERVERS)}")
    try:
        for name in names:
            if name == "accord-postgresql" and pg is None:
                bindir = find_bin()
                if bindir is None:
                    sys.exit("PostgreSQL is not installed (initdb not found): leave accord-postgresql out")
                pg = PgServer(bindir)
                pg.start()
            server = make_server(name, pg, args.workers)
            try:
                with Progress(console=console, transient=True) as progress:
                    ids = seed_server(server, args.objects, progress)
                    results.append(load(server, ids, args.clients, args.seconds, args.objects, args.seed, progress))
            finally:
                server.stop()
            if results[-1].errors:
                console.print(f"[red]{name}: {len(results[-1].errors)} errors, first: {results[-1].errors[0]}")
            console.print(table(results[-1:], args.clients))
    finally:
        if pg is not None:
            pg.stop()
    console.print(table(results, args.clients))
    console.print(f"load average after: {os.getloadavg()[0]:.2f}; median request mix: "
                  f"{statistics.median(len(r.latencies['post']) / max(1, r.requests) for r in results):.0%} writes")
    if any(r.errors for r in results if not r.server.startswith("medallion")):
        sys.exit(1)


if __name__ == "__main__":
    main()
