"""What minimisation on ingest costs (issue 17): Add Objects of the same requests into three stores
side by side in one run, one without a privacy policy (the baseline), one that pseudonymises every
category, one that drops every category.

Each request is a sighting with an analyst's note, its observed-data, an e-mail address, a user
account and an address of the reporter's own network (everything the data table names), plus three
indicators that hold no personal data, so the figure is per object of a realistic mixed request.
The stores are filled in turns, a request to each in a rotating order, so the machine's load falls
on all three alike. No HTTP: what it measures is the service and the store.

    PYTHONPATH=src:. .venv/bin/python -m bench.privacy_ingest 2000
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from tests.privacy.helpers import account, address, email, observed, sighting
from tests.stixgen import indicator

from accord.domain.model import OrgKind
from accord.domain.privacy import CATEGORIES
from accord.domain.sharing import Role
from accord.services import admin, auth, privacy
from accord.services import objects as svc
from accord.store.migrate import upgrade
from accord.store.repository import Store
from accord.store.secrets import SecretBox

POLICIES: dict[str, str | None] = {"no policy": None, "pseudonymise all": "pseudonymise", "drop all": "drop"}


def _request(n: int) -> list[dict[str, Any]]:
    refs = [email(f"user{n}@corp.example"), account(f"user{n}", f"S-1-5-{n}", f"User {n}"),
            address(f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}")]
    seen = observed([r["id"] for r in refs], note=f"logon by user{n} on WS-{n}")
    found = indicator(n, object_id=f"indicator--{uuid.uuid4()}")
    others = [indicator(n * 7 + k, object_id=f"indicator--{uuid.uuid4()}") for k in (1, 2)]
    return [*refs, seen, found, *others, sighting(found["id"], f"seen by analyst {n}", [seen["id"]])]


def _store(tmp: Path, name: str, action: str | None) -> tuple[Store, Any, Any]:
    store = Store.open(f"sqlite:///{tmp / (name.replace(' ', '_') + '.db')}")
    store.secrets = SecretBox(os.urandom(32))
    upgrade(store.engine)
    admin.init_node(store, "host", OrgKind.GOVERNMENT_CERT, "DE")
    admin.add_org(store, "partner", OrgKind.COMPANY, "FR", ())
    admin.grant(store, "default", "partner", read=True, write=True)
    key = admin.add_account(store, "partner-user", "partner", Role.CONTRIBUTOR)[1]
    if action is not None:
        privacy.set_policy(store, "default", dict.fromkeys(CATEGORIES, action), own_ranges=["10.0.0.0/8"])
    with store.read() as tx:
        principal = auth.authenticate_in(tx, f"Bearer {key}")
        root = tx.get_api_root("default")
    return store, principal, root


def main(requests: int) -> None:
    batches = [_request(n) for n in range(requests)]
    per_request = len(batches[0])
    with tempfile.TemporaryDirectory() as tmp:
        stores = {name: _store(Path(tmp), name, action) for name, action in POLICIES.items()}
        cpu = dict.fromkeys(POLICIES, 0.0)
        stored = dict.fromkeys(POLICIES, 0)
        names = list(POLICIES)
        for i, batch in enumerate(batches):
            for name in names[i % 3:] + names[:i % 3]:
                store, principal, root = stores[name]
                start = time.process_time()
                status = svc.add_objects(store, principal, root, "default", batch)
                cpu[name] += time.process_time() - start
                stored[name] += status["success_count"]
        for store, _, _ in stores.values():
            store.close()
    total = requests * per_request
    base = cpu["no policy"] / total * 1e6
    print(f"{requests} requests of {per_request} objects ({total} objects), SQLite, CPU time of Add Objects:")
    print(f"{'policy':<18} {'us CPU/object':>14} {'x no policy':>12} {'objects stored':>15}")
    for name in POLICIES:
        us = cpu[name] / total * 1e6
        print(f"{name:<18} {us:>14.1f} {us / base:>12.2f} {stored[name]:>15}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
