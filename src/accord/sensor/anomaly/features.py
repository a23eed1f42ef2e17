"""From named flow columns to one numeric matrix that distances mean something in.

Byte and packet counts span six orders of magnitude, so heavy-tailed columns go through ``log1p``;
every numeric column is then centred on the baseline's median and divided by a robust spread, so
"three units away" means the same for bytes and for error rates. Categorical columns (protocol,
service, connection state, port) become one-hot columns over the values the baseline used, plus
one "never seen" column: a service the baseline never used is itself a strong signal.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from accord.sensor.anomaly.errors import SchemaMismatchError
from accord.sensor.anomaly.flows import FloatArray, FlowTable

UNSEEN = "<unseen>"
MAX_CATEGORIES = 64
"""Values kept per categorical column (the most frequent); rarer ones share the unseen column."""


@dataclass(frozen=True)
class FeatureSchema:
    """The input columns a model was trained on; scoring other columns is an error, not a guess."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]

    @classmethod
    def of(cls, table: FlowTable) -> FeatureSchema:
        return cls(tuple(table.numeric), tuple(table.categorical))

    def check(self, table: FlowTable) -> None:
        """Raise ``SchemaMismatchError`` naming the missing and unexpected columns."""
        have = FeatureSchema.of(table)
        if have == self:
            return
        parts = []
        for kind, want, got in (
            ("numeric", self.numeric, have.numeric),
            ("categorical", self.categorical, have.categorical),
        ):
            missing = [c for c in want if c not in got]
            extra = [c for c in got if c not in want]
            if missing:
                parts.append(f"missing {kind} columns {', '.join(missing)}")
            if extra:
                parts.append(f"unexpected {kind} columns {', '.join(extra)}")
        raise SchemaMismatchError(
            "the flows do not match the model's feature schema: "
            + ("; ".join(parts) or "column order differs")
            + " (was the model trained on another log format?)"
        )


@dataclass(frozen=True)
class Encoder:
    """The fitted transform: which columns take log1p, their centre and spread, the category lists."""

    schema: FeatureSchema
    log: NDArray[np.bool_]
    center: FloatArray
    scale: FloatArray
    vocab: tuple[tuple[str, ...], ...]
    shares: tuple[tuple[float, ...], ...]

    @classmethod
    def fit(cls, table: FlowTable) -> Encoder:
        schema = FeatureSchema.of(table)
        raw = _numeric_matrix(table, schema)
        log = (raw.min(axis=0, initial=0.0) >= 0) & (raw.max(axis=0, initial=0.0) > 1)
        values = np.where(log, np.log1p(np.maximum(raw, 0)), raw)
        center = np.median(values, axis=0) if len(values) else np.zeros(values.shape[1])
        q75, q25 = np.percentile(values, [75, 25], axis=0) if len(values) else (center, center)
        scale = (q75 - q25) / 1.349
        spread = values.std(axis=0) if len(values) else center
        scale = np.where(scale > 0, scale, np.where(spread > 0, spread, 1.0))
        common = [Counter(table.categorical[c].tolist()).most_common(MAX_CATEGORIES) for c in schema.categorical]
        vocab = tuple(tuple(v for v, _ in pairs) for pairs in common)
        shares = tuple(tuple(n / max(len(table), 1) for _, n in pairs) for pairs in common)
        return cls(schema, log, center, scale, vocab, shares)

    @property
    def names(self) -> tuple[tuple[str, str | None], ...]:
        """Per output column: (input column, category) with category None for numeric columns."""
        cats = [
            (c, v) for c, values in zip(self.schema.categorical, self.vocab, strict=True) for v in (*values, UNSEEN)
        ]
        return (*((n, None) for n in self.schema.numeric), *cats)

    def transform(self, table: FlowTable) -> NDArray[np.float32]:
        """The encoded matrix (rows = flows), float32 because scoring speed matters more than digits."""
        self.schema.check(table)
        raw = _numeric_matrix(table, self.schema)
        out = np.zeros((len(table), len(self.names)), dtype=np.float32)
        width = len(self.schema.numeric)
        out[:, :width] = (self.log_values(raw) - self.center) / self.scale
        col = width
        for name, values in zip(self.schema.categorical, self.vocab, strict=True):
            distinct, inverse = np.unique(table.categorical[name], return_inverse=True)
            lookup = {v: i for i, v in enumerate(values)}
            codes = np.array([lookup.get(v, len(values)) for v in distinct.tolist()], dtype=np.intp)[inverse]
            out[np.arange(len(table)), col + codes] = 1.0
            col += len(values) + 1
        return out

    def log_values(self, raw: FloatArray) -> FloatArray:
        """Numeric values on the scale the model compares them (log1p where fitted so)."""
        return np.where(self.log, np.log1p(np.maximum(raw, 0)), raw)

    def decode(self, z: FloatArray) -> FloatArray:
        """Encoded numeric values back in each column's own units (bytes, counts, rates)."""
        values = z * self.scale + self.center
        return np.where(self.log, np.expm1(values), values)


def _numeric_matrix(table: FlowTable, schema: FeatureSchema) -> FloatArray:
    if not schema.numeric:
        return np.zeros((len(table), 0))
    return np.column_stack([table.numeric[c] for c in schema.numeric]).astype(np.float64)
