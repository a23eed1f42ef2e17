"""kill -9 campaign: SIGKILL a real node at random points of an ingest and of a federation sync.

Ingest: several clients post a fixed set of indicators (envelopes of 100) over TAXII to one node
(``accord serve --workers 2``, its whole process group killed); each time the acknowledged count
passes a random threshold the node is killed a few milliseconds later, mid-request, then checked
while down (every version a status reported as a success is in the database, ``verify_audit``
passes) and restarted; the clients re-send what was not acknowledged. At the end every object is
stored, every status the clients were given can still be fetched and is on the audit chain, and
``accord audit verify`` passes.

Sync: two linked nodes (tests/federation/cluster.py); each round posts 500 objects at A and, a
random 20-150 ms after the first post, kills the receiver B or the sender A (alternately; a row
for each), restarts it and waits until B holds every object A acknowledged and the sync digests
agree both ways.

Figures: in flight at kill is the number of requests under way (ingest) or of objects A held that
B did not (sync; "mid-sync" counts the kills where that was not zero), read just before the kill.
Restart is the time from starting the killed node again until it serves (every worker ready);
recovery is from that start until the first acknowledgement (ingest) or until convergence (sync).
The checks made while the node is down are counted in neither.

    .venv/bin/python -m bench.crash --kills 20 --backends sqlite,postgresql
"""

from __future__ import annotations

import argparse
import http.client
import os
import queue
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx
import orjson
from rich.console import Console
from rich.table import Table
from tests.e2e.nodeproc import free_port
from tests.federation.cluster import Node, link, version_of, wait_until
from tests.pgserver import PgServer, find_bin
from tests.stixgen import indicator as small_indicator

from accord.bootstrap import open_store
from accord.config import Settings
from accord.domain.tlp import Tlp
from accord.federation import peers as fed
from accord.services import admin
from accord.store.repository import Store
from bench.taxii_data import indicator

TAXII = "application/taxii+json;version=2.1"
PATH = "/taxii2/default/collections/default/objects/"
ENVELOPE = 100


@dataclass
class Result:
    backend: str
    scenario: str
    kills: int = 0
    # per kill, just before it: requests in flight (ingest); objects A held that B did not (sync)
    in_flight: list[int] = field(default_factory=list)
    acknowledged: int = 0
    lost: int = 0  # acknowledged versions missing, while down or at the end
    statuses_lost: int = 0  # acknowledged status resources that cannot be fetched at the end
    unaudited: int = 0  # acknowledged statuses with no audit record
    chain_ok: bool = True
    converged: int = 0  # kills after which the end state was reached
    restarts: list[float] = field(default_factory=list)
    recoveries: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (self.lost == 0 and self.statuses_lost == 0 and self.unaudited == 0 and self.chain_ok
                and self.converged == self.kills and not self.errors)


def node_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    """The environment ``accord`` commands get for this node (as tests/federation/cluster.py sets it)."""
    env = {**os.environ, "ACCORD_DATA_DIR": str(data_dir)}
    env.pop("ACCORD_DATABASE_URL", None)
    if database_url:
        env["ACCORD_DATABASE_URL"] = database_url
    return env


class KillableNode:
    """``accord serve`` in its own process group on a fixed port: SIGKILL takes every worker at once."""

    def __init__(self, data_dir: Path, database_url: str | None, workers: int) -> None:
        self.data_dir, self.database_url, self.workers = data_dir, database_url, workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.admin_key = ""
        self.proc: subprocess.Popen[bytes] | None = None
        self._store: Store | None = None

    def env(self) -> dict[str, str]:
        return node_env(self.data_dir, self.database_url)

    def start(self, timeout: float = 60) -> float:
        """Start and wait until every worker has started; returns the seconds it took."""
        began = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "accord", "serve", "--json", "--port", str(self.port), "--workers",
             str(self.workers), "--log-level", "info"],
            env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        started = threading.Semaphore(0)
        proc = self.proc

        def drain() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                if b"Application startup complete" in line:
                    started.release()

        threading.Thread(target=drain, daemon=True).start()
        assert proc.stdout is not None
        first = proc.stdout.readline()
        if not self.admin_key:
            self.admin_key = orjson.loads(first)["api_key"]
        for _ in range(self.workers):
            if not started.acquire(timeout=max(0.1, timeout - (time.monotonic() - began))):
                self.kill()
                raise RuntimeError("the node did not start in time")
        return time.monotonic() - began

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=15)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        if self._store is not None:
            self._store.close()
            self._store = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = open_store(Settings(self.data_dir, self.database_url))
        return self._store

    def held(self) -> set[tuple[str, str]]:
        with self.store.read() as tx:
            return tx.held_versions()


def _audit_ok(store: Store) -> bool:
    return admin.verify_audit(store)[1] is None


def _cli_audit_ok(env: dict[str, str]) -> bool:
    """``accord audit verify``, the command an operator runs."""
    done = subprocess.run([sys.executable, "-m", "accord", "audit", "verify", "--json"], env=env,
                          capture_output=True, timeout=300)
    return done.returncode == 0 and orjson.loads(done.stdout.strip().splitlines()[-1]).get("ok") is True


def _audited_statuses(store: Store) -> set[str]:
    with store.read() as tx:
        return {r.details["status"] for r, _ in tx.audit_records() if r.action == "taxii.add_objects"}


class Refused(Exception):
    """The node answered, but not with a status (202): a real error, not a cut connection."""


class Ingest:
    """Clients posting envelopes until every one is acknowledged; what was cut is posted again."""

    def __init__(self, node: KillableNode, bodies: list[bytes], clients: int) -> None:
        self.node, self.bodies = node, bodies
        self.todo: queue.Queue[int] = queue.Queue()
        for i in range(len(bodies)):
            self.todo.put(i)
        self.acked: set[str] = set()
        self.statuses: dict[str, int] = {}  # status id -> success_count the client was given
        self.lock = threading.Lock()
        self.up, self.finished, self.first_ack = threading.Event(), threading.Event(), threading.Event()
        self.up.set()
        self.remaining = len(bodies)
        self.in_flight = 0
        self.errors: list[str] = []
        self.headers = {"Authorization": f"Bearer {node.admin_key}", "Accept": TAXII, "Content-Type": TAXII}
        self.threads = [threading.Thread(target=self._client, daemon=True) for _ in range(clients)]
        for t in self.threads:
            t.start()

    def _post(self, conn: http.client.HTTPConnection, body: bytes) -> dict[str, object]:
        with self.lock:
            self.in_flight += 1
        try:
            conn.request("POST", PATH, body=body, headers=self.headers)
            resp = conn.getresponse()
            content = resp.read()
        finally:
            with self.lock:
                self.in_flight -= 1
        if resp.status != 202:
            raise Refused(f"HTTP {resp.status}: {content[:200]!r}")
        status: dict[str, object] = orjson.loads(content)
        return status

    def _client(self) -> None:
        conn: http.client.HTTPConnection | None = None
        while not self.finished.is_set():
            try:
                i = self.todo.get(timeout=0.2)
            except queue.Empty:
                continue
            self.up.wait()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.node.port, timeout=60)
                status = self._post(conn, self.bodies[i])
            except (OSError, http.client.HTTPException, Refused) as exc:
                if conn is not None:
                    conn.close()
                conn = None
                if isinstance(exc, Refused | TimeoutError):  # a kill resets or refuses, it never hangs
                    self.errors.append(f"{type(exc).__name__}: {exc}")
                self.todo.put(i)  # not acknowledged: sent again once the node is back
                time.sleep(0.05)
                continue
            # TAXII 2.1 section 4.3.1: a status leaves out the lists that would be empty
            successes, failures = status.get("successes", []), status.get("failures", [])
            assert isinstance(successes, list) and isinstance(failures, list)
            with self.lock:
                self.acked.update(s["id"] for s in successes)
                self.statuses[str(status["id"])] = len(successes)
                if failures:
                    self.errors.append(f"failures: {failures[:2]}")
                self.remaining -= 1
                if self.remaining == 0:
                    self.finished.set()
            self.first_ack.set()

    def acknowledged(self) -> set[str]:
        with self.lock:
            return set(self.acked)

    def close(self) -> None:
        self.finished.set()
        self.up.set()
        for t in self.threads:
            t.join(timeout=70)


def _statuses_lost(node: KillableNode, statuses: dict[str, int]) -> int:
    """Status resources (TAXII 2.1 section 4.3) the clients were given that the node no longer serves as given."""
    lost = 0
    with httpx.Client(base_url=node.url, headers={"Authorization": f"Bearer {node.admin_key}", "Accept": TAXII},
                      timeout=30) as c:
        for sid, successes in statuses.items():
            r = c.get(f"/taxii2/default/status/{sid}/")
            lost += r.status_code != 200 or r.json()["success_count"] != successes
    return lost


def ingest_campaign(backend: str, database_url: str | None, kills: int, n: int, clients: int, workers: int,
                    seed: int, console: Console) -> Result:
    rng = random.Random(seed)
    objects = [indicator(i) for i in range(n)]
    versions = dict(version_of(o) for o in objects)
    bodies = [orjson.dumps({"objects": objects[s:s + ENVELOPE]}) for s in range(0, n, ENVELOPE)]
    result = Result(backend, "ingest (TAXII POST)")
    tmp = tempfile.TemporaryDirectory(prefix="accord-crash-")
    node = KillableNode(Path(tmp.name) / "node", database_url, workers)
    ingest: Ingest | None = None
    try:
        node.start()
        start = time.monotonic()
        ingest = Ingest(node, bodies, clients)
        # the last fifth is left unkilled: the clients must not finish between a threshold and its kill
        # one kill in each of ``kills`` equal strata of the acknowledged count: random, yet never two
        # kills so close together that the clients have acknowledged nothing new in between
        low, span = n // 40, n * 4 // 5 - n // 40
        for threshold in (low + int((k + rng.random()) * span / kills) for k in range(kills)):
            while len(ingest.acked) < threshold and not ingest.finished.is_set():
                time.sleep(0.002)
            if ingest.finished.is_set():
                console.print(f"[yellow]ingest finished before kill {result.kills + 1}")
                break
            time.sleep(rng.uniform(0, 0.03))  # land inside a request, not between two
            ingest.up.clear()
            result.in_flight.append(ingest.in_flight)  # read before the kill: a cut request leaves at once
            node.kill()
            result.kills += 1
            # the last envelopes can be acknowledged between the check above and the kill: then the
            # kill is still checked while down, but no acknowledgement follows the restart
            done_before_kill = ingest.finished.is_set()
            snapshot = {(i, versions[i]) for i in ingest.acknowledged()}
            result.lost += len(snapshot - node.held())
            result.chain_ok &= _audit_ok(node.store)
            ingest.first_ack.clear()
            restarted = time.monotonic()
            result.restarts.append(node.start())
            ingest.up.set()
            if done_before_kill:
                continue
            if not ingest.first_ack.wait(timeout=120):
                raise RuntimeError("no acknowledgement within 120 s of a restart")
            result.recoveries.append(time.monotonic() - restarted)
        if not ingest.finished.wait(timeout=600):
            raise RuntimeError("the ingest did not complete after the last restart")
        result.seconds = time.monotonic() - start
        ingest.close()
        held = node.held()
        acked = ingest.acknowledged()
        result.acknowledged = len(acked)
        result.lost += len({(i, versions[i]) for i in acked} - held)
        result.converged = result.kills if held >= set(versions.items()) else 0
        result.statuses_lost = _statuses_lost(node, ingest.statuses)
        result.unaudited = len(set(ingest.statuses) - _audited_statuses(node.store))
        result.errors = ingest.errors
        node.stop()
        result.chain_ok &= _cli_audit_ok(node.env())
        if result.errors:
            console.print(f"[red]{len(result.errors)} unexpected answers, first: {result.errors[0]}")
        return result
    finally:
        if ingest is not None:
            ingest.close()
        node.stop()
        tmp.cleanup()


def _agree(a: Node, b: Node) -> bool:
    try:
        rows_b = {r["peer"]: r for r in fed.sync_status(b.store, check=True)}
        rows_a = {r["peer"]: r for r in fed.sync_status(a.store, check=True)}
    except httpx.HTTPError:
        return False
    return rows_b[a.name]["agree"] is True and rows_a[b.name]["agree"] is True


def _converged(a: Node, b: Node, acknowledged: frozenset[tuple[str, str]]) -> bool:
    return acknowledged <= b.held() and _agree(a, b)


class Poster(threading.Thread):
    """Posts objects at a node in envelopes, one after another, until done or the node is gone."""

    def __init__(self, node: Node, objects: list[dict[str, object]], errors: list[str]) -> None:
        super().__init__(daemon=True)
        self.node, self.objects, self.errors = node, objects, errors
        self.acknowledged: set[tuple[str, str]] = set()
        self.start()

    def run(self) -> None:
        with httpx.Client(headers=self.node.headers(), timeout=60) as c:
            for s in range(0, len(self.objects), ENVELOPE):
                chunk = self.objects[s:s + ENVELOPE]
                try:
                    resp = c.post(self.node.url + PATH, content=orjson.dumps({"objects": chunk}))
                except httpx.TransportError:
                    return  # killed: what it had not acknowledged is not owed to anyone
                if resp.status_code != 202 or resp.json()["success_count"] != len(chunk):
                    self.errors.append(f"HTTP {resp.status_code}: {resp.text[:200]}")
                    return
                self.acknowledged |= {version_of(o) for o in chunk}


def sync_campaign(backend: str, server: PgServer | None, kills: int, per_round: int, seed: int,
                  console: Console) -> list[Result]:
    """Rounds alternate between killing the receiver B and the sender A: one result for each."""
    rng = random.Random(seed)
    receiver, sender = Result(backend, "sync, receiver B killed"), Result(backend, "sync, sender A killed")
    tmp = tempfile.TemporaryDirectory(prefix="accord-crash-sync-")
    started: list[Node] = []

    def make(name: str) -> Node:
        url = server.create_database(f"crash_{os.getpid()}_{seed}_{name.lower()}") if server else None
        node = Node(name, Path(tmp.name) / name, database_url=url)
        started.append(node)
        return node

    try:
        a, b = make("A"), make("B")
        link(a, b)
        acknowledged: set[tuple[str, str]] = set()
        for r in range(kills):
            victim, result = (b, receiver) if r % 2 == 0 else (a, sender)
            began = time.monotonic()
            objects = [small_indicator(r * per_round + i, tlp=Tlp.GREEN) for i in range(per_round)]
            poster = Poster(a, objects, result.errors)
            # a round's posts take about 50-120 ms at A and B holds them all 150-700 ms after the
            # first: a random point in the first 150 ms lands mostly mid-sync (the column says how often)
            time.sleep(rng.uniform(0.02, 0.15))
            result.in_flight.append(a.count() - b.count())
            victim.kill9()
            result.kills += 1
            poster.join()
            acknowledged |= poster.acknowledged
            result.chain_ok &= _audit_ok(victim.store)
            result.lost += len(acknowledged - a.held())
            t = time.monotonic()
            victim.start()
            result.restarts.append(time.monotonic() - t)
            try:
                wait_until(partial(_converged, a, b, frozenset(acknowledged)), 90, "convergence")
                result.converged += 1
                result.recoveries.append(time.monotonic() - t)
            except AssertionError:
                console.print(f"[red]round {r}: not converged within 90 s")
            result.seconds += time.monotonic() - began
            result.acknowledged += len(poster.acknowledged)
        receiver.lost += len(acknowledged - b.held())
        sender.lost += len(acknowledged - a.held())
        for node, result in ((a, sender), (b, receiver)):
            node.stop()
            result.chain_ok &= _cli_audit_ok(node_env(node.data_dir, node.database_url))
        return [receiver, sender]
    finally:
        for node in started:
            node.close()
        tmp.cleanup()


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} / {max(values):.2f} s" if values else "-"


def table(results: list[Result]) -> Table:
    t = Table(title="kill -9 campaign")
    columns = ("backend", "scenario", "kills", "in flight at kill (median / max)", "acknowledged", "lost",
               "statuses lost", "unaudited", "audit chain", "converged", "restart (median / max)",
               "recovery (median / max)", "time")
    for col in columns:
        t.add_column(col, justify="left" if col in ("backend", "scenario") else "right")
    for r in results:
        flight = f"{statistics.median(r.in_flight):.0f} / {max(r.in_flight)}" if r.in_flight else "-"
        if r.in_flight and not r.scenario.startswith("ingest"):
            flight += f" ({sum(1 for x in r.in_flight if x)} mid-sync)"
        t.add_row(r.backend, r.scenario, str(r.kills), flight, f"{r.acknowledged:,}", str(r.lost),
                  str(r.statuses_lost) if r.scenario.startswith("ingest") else "-",
                  str(r.unaudited) if r.scenario.startswith("ingest") else "-",
                  "verifies" if r.chain_ok else "BROKEN", f"{r.converged}/{r.kills}", _spread(r.restarts),
                  _spread(r.recoveries), f"{r.seconds:.1f} s")
    return t


def run(backends: list[str], scenarios: list[str], kills: int, objects: int, clients: int,
        workers: int, per_round: int, seed: int, console: Console) -> list[Result]:
    results: list[Result] = []
    server: PgServer | None = None
    try:
        for backend in backends:
            if backend == "postgresql" and server is None:
                bindir = find_bin()
                if bindir is None:
                    raise RuntimeError("PostgreSQL is not installed (initdb not found)")
                server = PgServer(bindir)
                server.start()
            pg = server if backend == "postgresql" else None
            if "ingest" in scenarios:
                url = pg.create_database(f"crash_ingest_{os.getpid()}_{seed}") if pg else None
                results.append(ingest_campaign(backend, url, kills, objects, clients, workers, seed, console))
                console.print(table(results[-1:]))
            if "sync" in scenarios:
                results += sync_campaign(backend, pg, kills, per_round, seed, console)
                console.print(table(results[-2:]))
    finally:
        if server is not None:
            server.stop()
    return results


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backends", default="sqlite,postgresql")
    p.add_argument("--scenarios", default="ingest,sync")
    p.add_argument("--kills", type=int, default=20,
                   help="kills per backend and scenario (sync: half of them of B, half of A)")
    p.add_argument("--objects", type=int, default=20_000, help="objects of the ingest")
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--per-round", type=int, default=500, help="objects posted at A before each kill (sync)")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    console = Console() if sys.stdout.isatty() else Console(width=220)
    began = time.monotonic()
    results = run(args.backends.split(","), args.scenarios.split(","), args.kills, args.objects, args.clients,
                  args.workers, args.per_round, args.seed, console)
    console.print(table(results))
    console.print(f"{time.monotonic() - began:.0f} s in all")
    if not all(r.ok for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
