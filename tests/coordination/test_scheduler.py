"""The server sweeps on its own: a missed deadline escalates with nobody running the command."""

from __future__ import annotations

import asyncio
import contextlib

from starlette.testclient import TestClient

from accord.bootstrap import _also_run
from accord.coordination import consultations, reports
from accord.coordination.scheduler import run_sweeps
from accord.store.repository import Store
from accord.web.app import create_app
from tests.conftest import Node
from tests.coordination.helpers import HOUR, T0, as_


def _deadline_warnings(node: Node) -> list[object]:
    return [w for w in reports.warnings(as_(node.store, "energy-co-analyst")) if "deadline" in str(w)]


def test_the_periodic_sweep_escalates_missed_deadlines(node: Node) -> None:
    consultations.open_consultation(as_(node.store, "admin"), "energy-co", "scan from your range", now=T0)
    assert _deadline_warnings(node) == []

    async def a_few_sweeps() -> None:
        task = asyncio.create_task(run_sweeps(node.store, every=0.05, clock=lambda: T0 + 30 * HOUR))
        await asyncio.sleep(0.5)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(a_few_sweeps())
    assert len(_deadline_warnings(node)) == 1  # stable ids: several sweeps, one warning


def test_the_served_app_runs_the_sweep_for_its_lifespan(node: Node) -> None:
    consultations.open_consultation(as_(node.store, "admin"), "energy-co", "scan from your range", now=T0)
    app = create_app(node.store)

    async def sweeps(store: Store) -> None:
        await run_sweeps(store, every=0.05, clock=lambda: T0 + 30 * HOUR)

    _also_run(app, sweeps)
    with TestClient(app):  # the lifespan starts: the first sweep runs at once
        for _ in range(100):
            if _deadline_warnings(node):
                break
            asyncio.run(asyncio.sleep(0.05))
    assert len(_deadline_warnings(node)) == 1
