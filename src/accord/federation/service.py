"""Running federation inside a serving node: the background tasks of ``accord serve``.

Started by the composition root for the app's lifespan: push loops to peer nodes, pull loops from
feed sources, and early-warning delivery. Each stops with the server process.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool

from accord.federation.early_warning import Warnings
from accord.federation.model import PeerKind
from accord.federation.pull import pull
from accord.federation.push import Pushers
from accord.federation.runtime import Runtime, install
from accord.store.repository import Store

FEED_POLL_SECONDS = 5.0


async def _feeds(store: Store) -> None:
    """Pull every feed source (any TAXII 2.1 server, with its added_after cursor; a MISP feed, with its
    manifest's ETag and timestamps) every few seconds."""
    while True:
        with store.read() as tx:
            feeds = [p for p in tx.list_peers() if p.kind in (PeerKind.FEED, PeerKind.MISP)]
        for feed in feeds:
            with contextlib.suppress(Exception):  # the error is recorded on the peer row by pull_feed
                await run_in_threadpool(pull, store, feed.name)
        await asyncio.sleep(FEED_POLL_SECONDS)


def enable(app: Starlette, data_dir: Path) -> Runtime:
    """Install the node's signer for the app's store and run the background tasks with the app."""
    store: Store = app.state.store
    rt = install(store, data_dir)
    warnings = Warnings(store, rt)
    app.state.warnings = warnings

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        pushers = Pushers(store, rt)
        tasks = [asyncio.create_task(pushers.run()), asyncio.create_task(_feeds(store)),
                 asyncio.create_task(warnings.run())]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await pushers.stop()
            await warnings.stop()

    app.router.lifespan_context = lifespan
    return rt
