"""Re-sending stored objects (a feed polled again, a bundle reloaded): same outcomes, few statements."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from accord.services import admin
from accord.services import objects as svc
from tests.conftest import Node
from tests.stixgen import indicator


def _statements_during(node: Node, objects: list[dict[str, Any]]) -> tuple[dict[str, Any], int]:
    principal = admin.principal_for(node.store, "admin")
    with node.store.read() as tx:
        root = tx.list_api_roots()[0]
    count = [0]

    def counted(*_args: Any) -> None:
        count[0] += 1

    event.listen(node.store.engine, "before_cursor_execute", counted)
    try:
        status = svc.add_objects(node.store, principal, root, "default", objects)
    finally:
        event.remove(node.store.engine, "before_cursor_execute", counted)
    return status, count[0]


def test_resending_an_envelope_reads_the_stored_copies_together(node: Node) -> None:
    sent = [indicator(i) for i in range(60)]
    first, _ = _statements_during(node, sent)
    assert first["success_count"] == 60 and all("message" not in s for s in first["successes"])

    edited = [dict(o) for o in sent]
    for o in edited[:5]:  # different content under the same version: replaced, as ATT&CK 18.0 does
        o["name"] += " (corrected)"
    again, statements = _statements_during(node, edited)
    messages = [s.get("message") for s in again["successes"]]
    assert messages == ["replaced different content stored under the same version"] * 5 + \
        ["already stored, unchanged"] * 55
    # one statement per stored object was 60 more than this
    assert statements < 25, statements
