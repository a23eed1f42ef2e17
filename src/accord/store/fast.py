"""Constant statements run straight on the driver's cursor.

Every TAXII request runs a dozen small statements (the API key, the API root, the collection and the
organisation's access to it, sharing groups, the write generation, the status resource, the audit
record). Through SQLAlchemy's execution machinery each cost about 18 us of CPU against about 2 us for
SQLite to run it: a tenth of a 100-object POST. These statements are module constants, compiled
once per dialect here and run on the DBAPI cursor; they return plain tuples, so callers convert
what SQLAlchemy's result processing would have (SQLite gives 0/1 for booleans).

Only statements nothing listens to may run here: SQLAlchemy's execution events do not fire (the
federation runtime watches ``INSERT INTO objects``, which never comes this way).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import Connection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

_Compiled = tuple[str, tuple[str, ...] | None, dict[str, Any], ClauseElement]
_CACHE: dict[tuple[int, str], _Compiled] = {}


def _compiled(conn: Connection, stmt: ClauseElement) -> _Compiled:
    key = (id(stmt), conn.dialect.name)
    found = _CACHE.get(key)
    if found is None:
        compiled = cast(SQLCompiler, stmt.compile(dialect=conn.dialect))
        names = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup is not None else None
        # the statement is kept with its SQL so that its id is never reused for another one
        found = _CACHE[key] = (str(compiled), names, dict(compiled.params), stmt)
    return found


def _run(conn: Connection, stmt: ClauseElement, params: Mapping[str, Any]) -> Any:
    sql, names, fixed, _ = _compiled(conn, stmt)
    values = {**fixed, **params} if fixed else params
    cursor = conn.connection.cursor()
    cursor.execute(sql, [values[n] for n in names] if names is not None else dict(values))
    return cursor


def rows(conn: Connection, stmt: ClauseElement, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """All rows of a SELECT (or of a statement with RETURNING) as tuples."""
    cursor = _run(conn, stmt, params or {})
    try:
        rows: list[tuple[Any, ...]] = cursor.fetchall()  # both drivers give tuples
        return rows
    finally:
        cursor.close()


def execute(conn: Connection, stmt: ClauseElement, params: Mapping[str, Any] | None = None) -> int:
    """Run an INSERT, UPDATE or DELETE; the number of rows it touched."""
    cursor = _run(conn, stmt, params or {})
    try:
        return int(cursor.rowcount)
    finally:
        cursor.close()
