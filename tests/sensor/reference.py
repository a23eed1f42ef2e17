"""A slow, obviously-correct matcher: the yardstick the kernel must agree with exactly.

For every event field and every indicator observable it asks one question with the standard library:
``ipaddress`` membership for addresses and ranges, string equality or a ``"." + suffix`` test for
domains, equality of normal forms for URLs, hashes and e-mail addresses. No tables, no numpy, no Arrow.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence

from accord.sensor import normalize
from accord.sensor.indicators import CompiledIndicator
from accord.sensor.model import FieldSpec, Kind, Observable, Role


def _address_hit(obs: Observable, text: str) -> bool:
    addr = normalize.address(text)
    return addr is not None and addr in ipaddress.ip_network(obs.value)


def _hit(obs: Observable, spec: FieldSpec, text: str) -> bool:
    if obs.kind is not spec.kind:
        return False
    if obs.role is not Role.ANY and spec.role is not Role.ANY and obs.role is not spec.role:
        return False
    if obs.kind is Kind.ADDR:
        return _address_hit(obs, text)
    value = normalize.canonical(obs.kind, text)
    if value is None:
        return False
    if obs.kind is Kind.DOMAIN:
        return value == obs.value or value.endswith("." + obs.value)
    return value == obs.value


def reference_matches(
    indicators: Sequence[CompiledIndicator], specs: Sequence[FieldSpec], events: Sequence[Mapping[str, str | None]]
) -> set[tuple[int, str, str]]:
    """(row, field, indicator id) for every field value that satisfies an observable."""
    out = set()
    for row, event in enumerate(events):
        for spec in specs:
            text = event.get(spec.name)
            if text is None:
                continue
            for ind in indicators:
                if any(_hit(obs, spec, text) for obs in ind.observables):
                    out.add((row, spec.name, ind.id))
    return out
