"""Builders for sensor tests: STIX indicators and small Zeek logs written to a temporary folder."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import orjson
from click.testing import CliRunner, Result

from accord.cli import cli

_ids = itertools.count(1)
CONN_FIELDS = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto"]
CONN_TYPES = ["time", "string", "addr", "port", "addr", "port", "enum"]


def indicator(pattern: str, **extra: Any) -> dict[str, Any]:
    """A STIX 2.1 indicator with a fresh id; ``extra`` overrides any property."""
    number = next(_ids)
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--00000000-0000-4000-8000-{number:012d}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "name": f"test indicator {number}",
    }
    obj.update(extra)
    return obj


def zeek_header(fields: list[str], types: list[str], path: str = "conn") -> str:
    return (
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
        f"#path\t{path}\n#open\t2026-11-27-00-00-00\n#fields\t"
        + "\t".join(fields)
        + "\n#types\t"
        + "\t".join(types)
        + "\n"
    )


def conn_line(ts: str, orig: str, resp: str, uid: str = "C1") -> str:
    return "\t".join([ts, uid, orig, "40000", resp, "443", "tcp"]) + "\n"


def write_conn(folder: Path, rows: list[tuple[str, str, str]], name: str = "conn.log", tail: str = "") -> Path:
    """A Zeek conn.log (header lines 1-8, records from line 9) of (ts, orig, resp) rows."""
    path = folder / name
    body = "".join(conn_line(ts, o, r, f"C{i}") for i, (ts, o, r) in enumerate(rows))
    path.write_bytes((zeek_header(CONN_FIELDS, CONN_TYPES) + body + tail).encode())
    return path


def write_bundle(folder: Path, objects: list[dict[str, Any]]) -> Path:
    """A STIX 2.1 bundle file of ``objects``."""
    path = folder / "bundle.json"
    bundle = {"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000001", "objects": objects}
    path.write_bytes(orjson.dumps(bundle))
    return path


def accord(*args: str | Path, stdin: bytes | None = None) -> Result:
    """Run the ``accord`` command line in-process, standard error kept apart."""
    return CliRunner().invoke(cli, [str(a) for a in args], input=stdin)
