"""The statements run on the driver's cursor (``accord.store.fast``) give what SQLAlchemy gives, on
SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import ClauseElement

from accord.domain.sharing import Role
from accord.services import admin
from accord.store import admin as admin_sql
from accord.store import audit as audit_sql
from accord.store import fast
from accord.store import repository as repo_sql
from tests.conftest import Node


def _cases(node: Node) -> list[tuple[ClauseElement, dict[str, Any]]]:
    key_id = node.keys["energy-co"].split("_")[1]
    with node.store.read() as tx:
        org = tx.find_key(key_id)
        root = tx.list_api_roots()[0]
    assert org is not None
    return [
        (admin_sql._FIND_KEY, {"key_id": key_id}),
        (admin_sql._FIND_KEY, {"key_id": "no-such-key"}),
        (admin_sql._GROUPS_OF, {"org_id": org[3]}),
        (admin_sql._ALL_MEMBERS, {}),
        (admin_sql._ALL_GROUPS, {}),
        (admin_sql._API_ROOTS, {}),
        (admin_sql._COLLECTIONS, {}),
        (admin_sql._COLLECTIONS_OF_ROOT, {"api_root_id": root.id}),
        (admin_sql._ACCESS_OF, {"org_id": org[3]}),
        (audit_sql._LAST, {}),
        (repo_sql._GENERATION, {}),
    ]


def test_rows_equal_sqlalchemy_rows(node: Node) -> None:
    admin.create_group(node.store, "energy-sharing")
    admin.set_group_member(node.store, "energy-sharing", "energy-co", True)
    answered = 0
    for stmt, params in _cases(node):
        with node.store.read() as tx:
            want = [tuple(r) for r in tx.conn.execute(stmt, params)]
            got = fast.rows(tx.conn, stmt, params)
        assert got == want, stmt
        answered += bool(got)
    assert answered >= 9  # all but the unknown key (and the generation, until a write)


def test_writes_count_rows_and_store_what_sqlalchemy_reads_back(node: Node) -> None:
    with node.store.write() as tx:
        before = tx.generation()
        tx.save_status("00000000-0000-4000-8000-000000000001", 1, 1, 123, b'{"status":"complete"}')
        tx.audit(None, None, "test.fast", {"n": 1})
    with node.store.read() as tx:
        assert tx.generation() == before + 1
        assert tx.get_status("00000000-0000-4000-8000-000000000001") == (1, 1, b'{"status":"complete"}')
        records = [r for r, _ in tx.audit_records()]
    assert records[-1].action == "test.fast" and records[-1].details == {"n": 1}
    with node.store.write() as tx:
        assert fast.execute(tx.conn, repo_sql._BUMP_GENERATION) == 1


@pytest.mark.parametrize("role", [Role.READER, Role.CONTRIBUTOR])
def test_keys_found_through_the_fast_path_carry_their_role(node: Node, role: Role) -> None:
    key = admin.add_account(node.store, f"{role.value}-extra", "energy-co", role)[1]
    with node.store.read() as tx:
        found = tx.find_key(key.split("_")[1])
    assert found is not None and found[4] is role
