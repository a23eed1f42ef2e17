"""Ingest and pull cost in process, to compare two commits of the node on the same machine.

Adds N indicators (each with its own random id) in envelopes of 100 through the Add Objects use case
(validation, sharing checks, the store), then reads every version back through Get Objects with
``match[version]=all``; prints CPU microseconds per object for both. No HTTP: what it measures is
the service and the store. To compare commits, check the older one out in a worktree and run this
same file against each tree, alternating, in one session:

    git worktree add /tmp/old OLD_COMMIT
    for i in 1 2 3; do
      PYTHONPATH=/tmp/old/src:. LABEL=old .venv/bin/python -m bench.ingest_ab 20000
      PYTHONPATH=src:. LABEL=new .venv/bin/python -m bench.ingest_ab 20000
    done
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

from tests.stixgen import indicator

from accord.domain.model import OrgKind
from accord.domain.sharing import Role
from accord.services import admin, auth
from accord.services import objects as svc
from accord.store.migrate import upgrade
from accord.store.objects import ObjectFilter, VersionFilter
from accord.store.repository import Store

ENVELOPE = 100


def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'ab.db'}")
        upgrade(store.engine)
        admin.init_node(store, "host", OrgKind.GOVERNMENT_CERT, "DE")
        admin.add_org(store, "partner", OrgKind.COMPANY, "FR", ())
        admin.grant(store, "default", "partner", read=True, write=True)
        key = admin.add_account(store, "partner-user", "partner", Role.CONTRIBUTOR)[1]
        with store.read() as tx:
            principal = auth.authenticate_in(tx, f"Bearer {key}")
            root = tx.get_api_root("default")
        assert principal is not None and root is not None
        objects = [indicator(n, object_id=f"indicator--{uuid.uuid4()}") for n in range(count)]

        cpu, wall = time.process_time(), time.perf_counter()
        for start in range(0, count, ENVELOPE):
            status = svc.add_objects(store, principal, root, "default", objects[start:start + ENVELOPE])
            assert status["success_count"] == len(objects[start:start + ENVELOPE]), status
        ingest_cpu, ingest_wall = time.process_time() - cpu, time.perf_counter() - wall

        cpu, token, read = time.process_time(), None, 0
        while True:
            page = svc.get_objects(store, principal, root, "default",
                                   ObjectFilter(versions=VersionFilter(all=True)), token, 10_000)
            read += len(page.versions)
            if not page.more:
                break
            token = page.next
        pull_cpu = time.process_time() - cpu
        assert read == count, (read, count)
        store.close()
    print(f"{os.environ.get('LABEL', 'this tree')}: ingest {ingest_cpu / count * 1e6:.1f} us CPU/object "
          f"({count / ingest_wall:,.0f} objects/s wall); pull all versions {pull_cpu / read * 1e6:.2f} us CPU/object")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
