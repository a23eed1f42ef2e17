"""The match kernel: one function from an Arrow record batch to (row, field, indicator) hits.

It runs unchanged in-process and inside Spark's ``mapInArrow`` (see ``spark.py``), so it only depends on
pyarrow, numpy and the compiled tables, which pickle.

Why it works on *distinct values*: a log column repeats the same few hosts and domains over and over.
Each column is dictionary-encoded (by the CSV reader in its parse threads, or here), the dictionary of
distinct values is matched, and hits are mapped back to rows with one numpy gather. Exact values and CIDR
ranges live in one sorted interval table (``addresses.py``); domains, URLs, hashes and e-mail addresses
in Python dicts, which unlike ``pyarrow.compute.is_in`` keep their hash table between batches (``is_in``
rebuilds its value set on every call: 0.3 s for 1M values). Domain names are first hashed in bulk with
their parent domains (``domains.py``), so only the few that may hit reach the dicts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from accord.sensor import normalize
from accord.sensor.addresses import AddressTable, parse_ipv4
from accord.sensor.domains import DomainFilter
from accord.sensor.indicators import CompiledIndicator
from accord.sensor.model import MATCHABLE, FieldSpec, Kind, Role


@dataclass(frozen=True, slots=True)
class Hits:
    """Kernel output for one batch: parallel lists, one entry per (row, field, indicator) hit."""

    rows: list[int]
    fields: list[str]
    values: list[str]
    indicators: list[int]

    @staticmethod
    def empty() -> Hits:
        return Hits([], [], [], [])


_ROLES = (Role.ANY, Role.SRC, Role.DST)
_MEMO_LIMIT = 1 << 20  # distinct names remembered per kind before the memo starts over


class Matcher:
    """Lookup tables compiled from indicators; hit index ``i`` refers to ``ids[i]``.

    Only ids (and the few residual indicators whole) are kept, in flat arrays where it matters, so the
    matcher of a million indicators is small and pickles fast for Spark.
    """

    def __init__(self, indicators: Sequence[CompiledIndicator]) -> None:
        self.ids = [indicator.id for indicator in indicators]
        self.residual = {index: ind for index, ind in enumerate(indicators) if ind.residual}
        owners: list[int] = []
        roles: list[int] = []
        self._text: dict[Kind, dict[str, list[int]]] = {kind: {} for kind in MATCHABLE if kind is not Kind.ADDR}
        networks: list[tuple[int, int, int, int]] = []
        for index, indicator in enumerate(indicators):
            for obs in indicator.observables:
                target = len(owners)
                owners.append(index)
                roles.append(_ROLES.index(obs.role))
                if obs.kind is Kind.ADDR:
                    span = obs.span or normalize.network_range(obs.value)
                    if span is not None:
                        networks.append((span[0], span[1], span[2], target))
                else:
                    self._text[obs.kind].setdefault(obs.value, []).append(target)
        self._owner = np.asarray(owners, dtype=np.int64)
        self._role = np.asarray(roles, dtype=np.int8)
        self._addresses = AddressTable(networks)
        self._domains = DomainFilter(self._text[Kind.DOMAIN])
        # Answers for names already seen: the same hosts recur in every block of a log.
        self._memo: dict[Kind, dict[str, list[int]]] = {}

    def _targets_of_text(self, kind: Kind, value: str) -> list[int]:
        table = self._text[kind]
        if kind is Kind.DOMAIN:
            # Fast path for what logs hold: plain ASCII names, whose canonical form is just lower case.
            plain = value.isascii() and value.strip() == value and not value.endswith(".")
            name = value.lower() if plain and " " not in value and "/" not in value else normalize.domain(value)
            found: list[int] = []
            while name:
                found += table.get(name, ())
                name = name[name.find(".") + 1 :] if "." in name else ""
            return found
        canon = normalize.canonical(kind, value)
        return [] if canon is None else table.get(canon, [])

    def _match_distinct(self, kind: Kind, values: pa.Array) -> dict[int, list[int]]:
        """Targets per position in ``values`` (the distinct values of one column), only for hits."""
        found: dict[int, list[int]] = {}
        if kind is Kind.ADDR:
            if self._addresses.empty:
                return found
            ints, is_v4 = parse_ipv4(values)
            nodes = self._addresses.nodes_v4(ints)
            for pos in np.flatnonzero(is_v4 & (nodes >= 0)).tolist():
                found[pos] = self._addresses.chain_v4(int(nodes[pos]))
            others = np.flatnonzero(~is_v4 & np.asarray(values.is_valid()))
            if len(others):
                for pos, text in zip(others.tolist(), values.take(pa.array(others)).to_pylist(), strict=True):
                    if targets := self._addresses.lookup(text):
                        found[pos] = targets
            return found
        if not self._text[kind]:
            return found
        if kind is Kind.DOMAIN:  # hashed in bulk; only the few names that may hit are looked up exactly
            positions = self._domains.candidates(values)
            texts = values.take(pa.array(positions)).to_pylist() if len(positions) else []
            for pos, text in zip(positions.tolist(), texts, strict=True):
                if targets := self._targets_of_text(kind, text):
                    found[pos] = targets
            return found
        memo = self._memo.setdefault(kind, {})
        for pos, text in enumerate(values.to_pylist()):
            if text is None:
                continue
            known = memo.get(text)
            if known is None:
                known = self._targets_of_text(kind, text)
                if len(memo) >= _MEMO_LIMIT:
                    memo.clear()
                memo[text] = known
            if known:
                found[pos] = known
        return found

    def match_batch(self, batch: pa.Table | pa.RecordBatch, fields: Iterable[FieldSpec]) -> Hits:
        """All hits of a batch over the given fields (fields missing from the batch are ignored).

        The distinct values of every chunk of every column of one kind are matched in one call, so the
        fixed cost of the vectorised steps is paid once per kind and batch, not once per column chunk.
        """
        hits = Hits.empty()
        names = set(batch.schema.names)
        pieces: dict[Kind, list[tuple[FieldSpec, pa.DictionaryArray, int]]] = {}
        for spec in fields:
            if spec.name not in names or spec.kind not in MATCHABLE:
                continue
            column = batch.column(spec.name)
            offset = 0
            for chunk in column.chunks if isinstance(column, pa.ChunkedArray) else [column]:
                pieces.setdefault(spec.kind, []).append((spec, _encoded(chunk), offset))
                offset += len(chunk)
        for kind, parts in pieces.items():
            distinct = [part[1].dictionary for part in parts]
            found = self._match_distinct(kind, pa.concat_arrays(distinct) if len(distinct) > 1 else distinct[0])
            if not found:
                continue
            bounds = np.cumsum([0] + [len(d) for d in distinct])
            positions = np.fromiter(sorted(found), dtype=np.int64, count=len(found))
            owner = np.searchsorted(bounds, positions, side="right") - 1
            for number in np.unique(owner).tolist():
                spec, column, offset = parts[number]
                base = int(bounds[number])
                local = {p - base: found[p] for p in positions[owner == number].tolist()}
                self._emit(spec, column, offset, local, hits)
        return hits

    def _emit(
        self, spec: FieldSpec, column: pa.DictionaryArray, offset: int, found: dict[int, list[int]], hits: Hits
    ) -> None:
        """Rows of one chunk whose value is among ``found`` (positions in the chunk's dictionary)."""
        codes = np.asarray(column.indices.fill_null(-1)).astype(np.int64)
        flag = np.zeros(len(column.dictionary) + 1, dtype=bool)  # the extra last slot is for nulls (-1)
        flag[list(found)] = True
        rows = np.flatnonzero(flag[codes])
        distinct = column.dictionary
        for row, code in zip(rows.tolist(), codes[rows].tolist(), strict=True):
            text = str(distinct[code].as_py())
            for target in found[code]:
                index, role = int(self._owner[target]), _ROLES[self._role[target]]
                if role is Role.ANY or spec.role is Role.ANY or role is spec.role:
                    hits.rows.append(row + offset)
                    hits.fields.append(spec.name)
                    hits.values.append(text)
                    hits.indicators.append(index)


def _encoded(chunk: pa.Array) -> pa.DictionaryArray:
    """A chunk as a dictionary array of plain strings (CSV readers already give one)."""
    if pa.types.is_dictionary(chunk.type):
        if chunk.dictionary.type == pa.string():
            return chunk
        chunk = chunk.cast(pa.string())
    elif chunk.type != pa.string():
        chunk = chunk.cast(pa.string())
    return pc.dictionary_encode(chunk)
