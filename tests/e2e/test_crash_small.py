"""kill -9 in small: bench/crash.py's campaign with a few kills, on a real node, in bounded time.

The full campaign (20 kills per backend and scenario, a 20,000-object ingest) is a bench run
recorded in docs/benchmarks.md; this keeps its guarantees in the test suite: a version a TAXII
status acknowledged survives SIGKILL, the status itself can still be fetched and is on the audit
chain, the chain verifies (``accord audit verify`` too), and linked peers converge again.
"""

from __future__ import annotations

import pytest
from bench.crash import Result, ingest_campaign, sync_campaign
from rich.console import Console

from tests.pgserver import PgServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _assert_clean(result: Result, kills: int) -> None:
    assert result.kills == kills, "the ingest finished before every kill"
    assert result.lost == 0, f"{result.lost} acknowledged versions lost"
    assert result.statuses_lost == 0 and result.unaudited == 0
    assert result.chain_ok, "the audit chain does not verify"
    assert result.converged == kills
    assert not result.errors, result.errors[:3]


@pytest.mark.parametrize(("backend", "kills", "workers"),
                         [("sqlite", 3, 1), pytest.param("postgresql", 2, 2, marks=pytest.mark.postgres)])
def test_kill9_during_an_ingest_loses_nothing_acknowledged(request: pytest.FixtureRequest, backend: str,
                                                            kills: int, workers: int) -> None:
    url = None
    if backend == "postgresql":
        server: PgServer | None = request.getfixturevalue("pg_server")
        if server is None:
            pytest.skip("PostgreSQL is not installed (make test installs it)")
        url = server.create_database(f"crash_small_{kills}")
    result = ingest_campaign(backend, url, kills, n=2000, clients=2, workers=workers, seed=3, console=Console())
    _assert_clean(result, kills)
    assert result.acknowledged == 2000
    assert max(result.in_flight) > 0, "no kill landed inside a request"


def test_kill9_of_receiver_and_sender_during_a_sync_converges() -> None:
    receiver, sender = sync_campaign("sqlite", None, kills=2, per_round=300, seed=3, console=Console())
    _assert_clean(receiver, 1)
    _assert_clean(sender, 1)
