"""Patterns the tables cannot decide, evaluated by the OASIS ``stix2-matcher`` on pre-selected events.

Each pre-selected event becomes an ``observed-data`` object (STIX 2.1 §4.14, with ``object_refs`` to
SCOs in one bundle, the form stix2-matcher takes for 2.1) built from the event's mapped fields:
addresses as ipv4-addr/ipv6-addr (and a network-traffic object with ``src_ref``/``dst_ref`` when the
field has a role), domains as domain-name, URLs as url, hashes as file ``hashes``, e-mail addresses
as email-addr.

- A pattern of one observation expression (STIX 2.1 §9), e.g. an ``AND`` inside one ``[...]``, is decided per
  event, which is exact.
- A pattern over several observations (``AND``/``OR``/``FOLLOWEDBY`` between observations) or with
  qualifiers (``WITHIN``, ``REPEATS``, ``START``/``STOP``) needs the events together: they are kept
  (up to ``limit`` per pattern) and decided at the end of each file; the events of the binding
  ``stix2-matcher`` returns are reported. That is the first binding only (the library's contract).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from stix2matcher.matcher import Pattern

from accord.sensor import normalize
from accord.sensor.indicators import CompiledIndicator
from accord.sensor.model import FieldSpec, Kind, Match, Role

_SCO_TYPES = {Kind.DOMAIN: "domain-name", Kind.URL: "url", Kind.EMAIL: "email-addr"}
_Event = tuple[Match, dict[str, Any], Callable[[Match], None]]


def _iso(seconds: float | None) -> str:
    moment = datetime.fromtimestamp(seconds or 0.0, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _ident(kind: str, number: int, part: int = 0) -> str:
    """Ids unique per event and object: stix2-matcher merges the bundles it is given."""
    return f"{kind}--00000000-{part:04x}-4000-8000-{number:012d}"


def observed_data(
    specs: Sequence[FieldSpec], values: dict[str, str | None], seconds: float | None, number: int
) -> dict[str, Any]:
    """A bundle with the ``observed-data`` SDO of one event and its SCOs (the 2.1 form, ``object_refs``)."""
    scos: list[dict[str, Any]] = []
    traffic: dict[str, Any] = {}
    for spec in specs:
        text = values.get(spec.name)
        if text is None or spec.kind in (Kind.TIME, Kind.USER):
            continue
        sco: dict[str, Any] | None = None
        if spec.kind is Kind.ADDR:
            addr = normalize.address(text)
            if addr is not None:
                sco = {"type": f"ipv{addr.version}-addr", "value": str(addr)}
        elif spec.kind is Kind.HASH:
            digest = normalize.file_hash(text)
            if digest is not None:
                sco = {"type": "file", "hashes": {normalize.hash_algorithm(digest): digest}}
        else:
            canon = normalize.canonical(spec.kind, text)
            if canon is not None:
                sco = {"type": _SCO_TYPES[spec.kind], "value": canon}
        if sco is None:
            continue
        sco["id"] = _ident(sco["type"], number, len(scos) + 1)
        scos.append(sco)
        if spec.kind is Kind.ADDR and spec.role is not Role.ANY:
            traffic[f"{spec.role.value}_ref"] = sco["id"]
    if traffic:
        scos.append(
            {
                "type": "network-traffic",
                "id": _ident("network-traffic", number, len(scos) + 1),
                "protocols": ["ipv4"],
                **traffic,
            }
        )
    when = _iso(seconds)
    sdo = {
        "type": "observed-data",
        "id": _ident("observed-data", number),
        "spec_version": "2.1",
        "created": when,
        "modified": when,
        "first_observed": when,
        "last_observed": when,
        "number_observed": 1,
        "object_refs": [o["id"] for o in scos],
    }
    return {"type": "bundle", "id": _ident("bundle", number), "objects": [sdo, *scos]}


class ResidualEvaluator:
    """Decides residual patterns on the events the tables pre-selected for them."""

    def __init__(self, indicators: Sequence[CompiledIndicator], limit: int = 10_000) -> None:
        self._patterns = {ind.id: Pattern(ind.pattern, stix_version="2.1") for ind in indicators if ind.residual}
        self._single = {ind.id for ind in indicators if ind.residual and ind.single_observation}
        self._kept: dict[str, list[_Event]] = {}
        self._limit = limit
        self.evaluated = 0
        self.dropped = 0

    def offer(
        self,
        candidate: Match,
        specs: Sequence[FieldSpec],
        values: dict[str, str | None],
        emit: Callable[[Match], None],
    ) -> None:
        """One pre-selected (event, indicator) pair: decided now, or kept for the end of the run."""
        sdo = observed_data(specs, values, candidate.time, self.evaluated)
        self.evaluated += 1
        if candidate.indicator in self._single:
            if self._patterns[candidate.indicator].match([sdo]):
                emit(candidate)
            return
        kept = self._kept.setdefault(candidate.indicator, [])
        if len(kept) < self._limit:
            kept.append((candidate, sdo, emit))
        else:
            self.dropped += 1

    def finish(self) -> None:
        """Decide the multi-observation patterns over everything kept."""
        for indicator, events in self._kept.items():
            by_id = {sdo["objects"][0]["id"]: (candidate, emit) for candidate, sdo, emit in events}
            for bundle in self._patterns[indicator].match([sdo for _, sdo, _ in events]):
                candidate, emit = by_id[bundle["objects"][0]["id"]]
                emit(candidate)
        self._kept.clear()
