"""The coordination sweep on a timer inside ``accord serve``.

Deadlines must escalate and sensor evidence must turn into proposed consultations without anyone
remembering to run ``accord coordination sweep``. The server runs the same sweep every
``SWEEP_SECONDS`` as the node's administrator account. Several API workers may sweep at once: every
object a sweep writes has a stable id, so a second writer changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from accord.coordination import sweep
from accord.coordination.workspace import Workspace
from accord.services import admin
from accord.services.periodic import run_periodically
from accord.stix.timestamps import now_micros
from accord.store.repository import Store

SWEEP_SECONDS = 60.0
log = logging.getLogger("accord.coordination")


def sweep_once(store: Store, now: int) -> sweep.SweepResult:
    return sweep.sweep(Workspace(store, admin.principal_for(store, admin.ADMIN_ACCOUNT)), now)


async def run_sweeps(store: Store, every: float = SWEEP_SECONDS, clock: Callable[[], int] = now_micros) -> None:
    """Sweep, then wait; a failed sweep is logged and the next one runs on time."""
    await run_periodically("coordination sweep", sweep_once, store, every, clock, log)
