"""One loop for the server's periodic jobs (coordination sweeps, retention purges).

A job runs in a worker thread, then the loop waits: a failure is logged and the next run comes on
time, so one bad pass never stops the job for the rest of the server's lifespan.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool

from accord.domain.errors import AccordError
from accord.store.repository import Store


async def run_periodically(what: str, job: Callable[[Store, int], Any], store: Store, every: float,
                           clock: Callable[[], int], log: logging.Logger) -> None:
    """Run ``job(store, clock())`` every ``every`` seconds, for as long as the task lives."""
    while True:
        try:
            await run_in_threadpool(job, store, clock())
        except AccordError as exc:
            log.warning("%s failed: %s", what, exc.message)
        except Exception:
            log.exception("%s failed", what)
        await asyncio.sleep(every)
