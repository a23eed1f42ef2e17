"""Flow records as columns, and the reader for delimited tables (NSL-KDD or any mapped CSV).

The detector works on named numeric and categorical columns, whatever produced them, so a Zeek
conn log, the NSL-KDD files and a partner's own CSV export all become the same ``FlowTable``. The
addresses and ports travel beside the features (``Endpoints``) because they are what an analyst and
a STIX sighting need, but they are never features themselves: an address says who, not how.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from accord.sensor.anomaly.errors import FlowFormatError

FloatArray = NDArray[np.float64]
StrArray = NDArray[np.str_]


@dataclass(frozen=True)
class Endpoints:
    """Who talked to whom, per flow: kept for reports and STIX, not scored."""

    src: StrArray
    dst: StrArray
    src_port: NDArray[np.int64]
    dst_port: NDArray[np.int64]
    proto: StrArray
    ts: FloatArray

    def take(self, idx: NDArray[np.intp]) -> Endpoints:
        return Endpoints(
            self.src[idx],
            self.dst[idx],
            self.src_port[idx],
            self.dst_port[idx],
            self.proto[idx],
            self.ts[idx],
        )


@dataclass(frozen=True)
class FlowTable:
    """Flows as columns. ``labels`` (True = attack) exist only for evaluation and are never fitted on."""

    numeric: Mapping[str, FloatArray]
    categorical: Mapping[str, StrArray]
    endpoints: Endpoints | None = None
    labels: NDArray[np.bool_] | None = None
    size: int = field(init=False)

    def __post_init__(self) -> None:
        lengths = {len(v) for v in (*self.numeric.values(), *self.categorical.values())}
        if len(lengths) > 1:
            raise FlowFormatError(f"columns of different lengths: {sorted(lengths)}")
        object.__setattr__(self, "size", lengths.pop() if lengths else 0)

    def __len__(self) -> int:
        return self.size

    def take(self, idx: NDArray[np.intp]) -> FlowTable:
        """The rows at ``idx``, in that order."""
        return FlowTable(
            {k: v[idx] for k, v in self.numeric.items()},
            {k: v[idx] for k, v in self.categorical.items()},
            None if self.endpoints is None else self.endpoints.take(idx),
            None if self.labels is None else self.labels[idx],
        )

    def normal(self) -> FlowTable:
        """The rows labelled normal (all rows when there are no labels)."""
        if self.labels is None:
            return self
        return self.take(np.flatnonzero(~self.labels))


def concat(tables: Sequence[FlowTable]) -> FlowTable:
    """Rows of several tables with the same columns, one after the other."""
    first = tables[0]
    ends = [t.endpoints for t in tables]
    labels = [t.labels for t in tables]
    return FlowTable(
        {k: np.concatenate([t.numeric[k] for t in tables]) for k in first.numeric},
        {k: np.concatenate([t.categorical[k] for t in tables]) for k in first.categorical},
        None
        if any(e is None for e in ends)
        else Endpoints(*(np.concatenate([getattr(e, f) for e in ends]) for f in Endpoints.__dataclass_fields__)),
        None if any(lab is None for lab in labels) else np.concatenate(labels),  # type: ignore[arg-type]
    )


@dataclass(frozen=True)
class TableFormat:
    """How to read a delimited flow table: which columns are numeric, categorical, label, endpoints.

    ``columns`` names the fields of a file without a header row; leave it empty when the file's
    first line names them. ``normal_labels`` are the label values that mean "not an attack".
    """

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    columns: tuple[str, ...] = ()
    delimiter: str = ","
    label: str | None = None
    normal_labels: tuple[str, ...] = ("normal", "benign")
    endpoints: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> TableFormat:
        """From {"numeric": [...], "categorical": [...], "label": ..., "endpoints": {...}, ...}."""
        try:
            return cls(
                numeric=tuple(raw["numeric"]),
                categorical=tuple(raw.get("categorical", ())),
                columns=tuple(raw.get("columns", ())),
                delimiter=str(raw.get("delimiter", ",")),
                label=raw.get("label"),
                normal_labels=tuple(raw.get("normal_labels", ("normal", "benign"))),
                endpoints=dict(raw.get("endpoints", {})),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise FlowFormatError(f"not a usable column mapping ({exc!r})") from exc

    def to_mapping(self) -> dict[str, Any]:
        """The inverse of ``from_mapping``, for the model's metadata."""
        return {
            "numeric": list(self.numeric),
            "categorical": list(self.categorical),
            "columns": list(self.columns),
            "delimiter": self.delimiter,
            "label": self.label,
            "normal_labels": list(self.normal_labels),
            "endpoints": dict(self.endpoints),
        }

    @classmethod
    def from_json(cls, path: Path) -> TableFormat:
        try:
            raw = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise FlowFormatError(f"{path}: not a readable JSON column mapping ({exc})") from exc
        if not isinstance(raw, dict):
            raise FlowFormatError(f"{path}: a column mapping is a JSON object")
        return cls.from_mapping(raw)


_KDD_NUMERIC = (
    "duration",
    "src_bytes",
    "dst_bytes",
    "land",
    "wrong_fragment",
    "urgent",
    "hot",
    "num_failed_logins",
    "logged_in",
    "num_compromised",
    "root_shell",
    "su_attempted",
    "num_root",
    "num_file_creations",
    "num_shells",
    "num_access_files",
    "num_outbound_cmds",
    "is_host_login",
    "is_guest_login",
    "count",
    "srv_count",
    "serror_rate",
    "srv_serror_rate",
    "rerror_rate",
    "srv_rerror_rate",
    "same_srv_rate",
    "diff_srv_rate",
    "srv_diff_host_rate",
    "dst_host_count",
    "dst_host_srv_count",
    "dst_host_same_srv_rate",
    "dst_host_diff_srv_rate",
    "dst_host_same_src_port_rate",
    "dst_host_srv_diff_host_rate",
    "dst_host_serror_rate",
    "dst_host_srv_serror_rate",
    "dst_host_rerror_rate",
    "dst_host_srv_rerror_rate",
)
_KDD_COLUMNS = (
    "duration",
    "protocol_type",
    "service",
    "flag",
    *_KDD_NUMERIC[1:],
    "label",
    "difficulty",
)

NSL_KDD = TableFormat(
    numeric=_KDD_NUMERIC,
    categorical=("protocol_type", "service", "flag"),
    columns=_KDD_COLUMNS,
    label="label",
    normal_labels=("normal",),
)
"""The NSL-KDD files (Tavallaee et al., 2009): 41 features, label, difficulty, no header."""


def read_table(paths: Iterable[Path], fmt: TableFormat) -> FlowTable:
    """Read delimited files into one table; a missing or non-numeric value is a clear error."""
    rows: list[list[str]] = []
    header: tuple[str, ...] = fmt.columns
    for path in paths:
        try:
            with path.open(newline="") as handle:
                reader = csv.reader(handle, delimiter=fmt.delimiter)
                if not fmt.columns:
                    header = tuple(next(reader, ()))
                rows.extend(row for row in reader if row)
        except OSError as exc:
            raise FlowFormatError(f"cannot read {path}: {exc.strerror}") from exc
    index = {name: i for i, name in enumerate(header)}
    wanted = (*fmt.numeric, *fmt.categorical, *fmt.endpoints.values(), *([fmt.label] if fmt.label else []))
    missing = [c for c in wanted if c not in index]
    if missing:
        raise FlowFormatError(f"columns not in the file: {', '.join(missing)}")
    if any(len(r) != len(header) for r in rows):
        bad = next(i for i, r in enumerate(rows) if len(r) != len(header))
        raise FlowFormatError(f"row {bad + 1} has {len(rows[bad])} fields, expected {len(header)}")
    cells = np.array(rows, dtype=str).reshape(len(rows), len(header))
    numeric = {name: _to_float(cells[:, index[name]], name) for name in fmt.numeric}
    categorical = {name: cells[:, index[name]] for name in fmt.categorical}
    labels = None
    if fmt.label:
        normal = np.array([v.lower() for v in fmt.normal_labels], dtype=str)
        labels = ~np.isin(np.char.lower(cells[:, index[fmt.label]]), normal)
    return FlowTable(numeric, categorical, _endpoints(cells, index, fmt.endpoints), labels)


def _to_float(values: StrArray, name: str) -> FloatArray:
    try:
        return values.astype(np.float64)
    except ValueError as exc:
        raise FlowFormatError(f"column {name!r} is not numeric ({exc})") from exc


def _endpoints(cells: StrArray, index: Mapping[str, int], mapping: Mapping[str, str]) -> Endpoints | None:
    """Endpoints from mapped columns (keys src, dst, src_port, dst_port, proto, ts), if src is mapped."""
    if not mapping.get("src"):
        return None
    n = len(cells)

    def text(key: str) -> StrArray:
        return cells[:, index[mapping[key]]] if key in mapping else np.full(n, "", dtype=str)

    def number(key: str) -> FloatArray:
        if key not in mapping:
            return np.full(n, np.nan)
        raw = cells[:, index[mapping[key]]]
        return _to_float(np.where(np.isin(raw, ("", "-")), "nan", raw), mapping[key])

    ports = [np.nan_to_num(number(k), nan=-1).astype(np.int64) for k in ("src_port", "dst_port")]
    return Endpoints(text("src"), text("dst"), ports[0], ports[1], text("proto"), number("ts"))
