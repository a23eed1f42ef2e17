"""Indicator exports for sensors that match on their own: pure functions, STIX indicator dicts -> text.

Only active indicators (not revoked, inside ``valid_from``/``valid_until``, STIX 2.1 §4.7 Indicator) with *simple*
patterns are exported (see ``indicators.py``): a pattern that needs ``stix2-matcher`` cannot be written as
a flat list without over-matching. Values are the canonical forms of ``normalize.py``.

- Zeek Intelligence Framework input files (Zeek manual, "Intelligence Framework"): a ``#fields`` header,
  then ``indicator<TAB>indicator_type<TAB>meta.source<TAB>meta.desc<TAB>meta.url``; types
  ``Intel::ADDR``, ``Intel::SUBNET``, ``Intel::DOMAIN``, ``Intel::URL`` (written without the scheme, as
  Zeek compares URLs without it), ``Intel::FILE_HASH`` and ``Intel::EMAIL``. Unset meta values are ``-``.
- Suricata datasets (Suricata manual, "Datasets"): one file per type; ``string`` sets hold base64 of
  each value (domains, URLs), ``md5``/``sha256`` hex digests, ``ipv4``/``ipv6`` addresses. Suricata has
  no SHA-1 or CIDR dataset type, so those go elsewhere (CIDRs to IP reputation) or are counted as left out.
- Suricata IP reputation (Suricata manual, "IP Reputation Format"): a categories file
  ``id,short name,description`` and a reputation file ``address-or-CIDR,category,score`` (score 1-127).
"""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from accord.sensor.indicators import CompiledIndicator, compile_indicators
from accord.sensor.model import Kind

_ZEEK_TYPES = {
    Kind.DOMAIN: "Intel::DOMAIN",
    Kind.URL: "Intel::URL",
    Kind.HASH: "Intel::FILE_HASH",
    Kind.EMAIL: "Intel::EMAIL",
}


@dataclass(frozen=True, slots=True)
class SuricataDatasets:
    """Dataset files by name (``ipv4.lst`` ...), and how many values no Suricata dataset type can hold."""

    files: dict[str, str]
    left_out: int


def _exportable(indicators: Iterable[Mapping[str, Any]], now: datetime | None) -> list[CompiledIndicator]:
    return [ind for ind in compile_indicators(indicators, now).indicators if not ind.residual]


def _clean(text: str) -> str:
    """Zeek's ASCII reader splits on tabs and newlines; they cannot occur inside a field."""
    return " ".join(text.split()) or "-"


def zeek_intel(indicators: Iterable[Mapping[str, Any]], source: str = "accord", now: datetime | None = None) -> str:
    """A Zeek intel file for ``Intel::read_files``; meta.desc is the indicator name, meta.url its STIX id."""
    lines = ["#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url"]
    for ind in _exportable(indicators, now):
        for obs in sorted(ind.observables, key=lambda o: (o.kind, o.value)):
            if obs.kind is Kind.ADDR:
                net = ipaddress.ip_network(obs.value)
                single = net.prefixlen == net.max_prefixlen
                value, kind = (str(net.network_address), "Intel::ADDR") if single else (str(net), "Intel::SUBNET")
            elif obs.kind is Kind.URL:
                parts = urlsplit(obs.value)
                value, kind = obs.value[len(parts.scheme) + 3 :], _ZEEK_TYPES[obs.kind]
            else:
                value, kind = obs.value, _ZEEK_TYPES[obs.kind]
            lines.append("\t".join([_clean(value), kind, _clean(source), _clean(ind.name), ind.id]))
    return "\n".join(lines) + "\n"


def suricata_datasets(indicators: Iterable[Mapping[str, Any]], now: datetime | None = None) -> SuricataDatasets:
    """Suricata dataset files: ``ipv4.lst``, ``ipv6.lst``, ``domains.lst``, ``urls.lst``, ``md5.lst``,
    ``sha256.lst`` (only those with values), for ``dataset:isset,<name>,type <t>,load <file>`` rules."""
    sets: dict[str, set[str]] = {}
    left_out = 0
    for ind in _exportable(indicators, now):
        for obs in ind.observables:
            if obs.kind is Kind.ADDR:
                net = ipaddress.ip_network(obs.value)
                if net.prefixlen != net.max_prefixlen:
                    left_out += 1
                    continue
                sets.setdefault(f"ipv{net.version}.lst", set()).add(str(net.network_address))
            elif obs.kind in (Kind.DOMAIN, Kind.URL):
                name = "domains.lst" if obs.kind is Kind.DOMAIN else "urls.lst"
                sets.setdefault(name, set()).add(base64.b64encode(obs.value.encode()).decode())
            elif obs.kind is Kind.HASH and len(obs.value) in (32, 64):
                sets.setdefault("md5.lst" if len(obs.value) == 32 else "sha256.lst", set()).add(obs.value)
            else:
                left_out += 1
    return SuricataDatasets(
        {name: "".join(f"{v}\n" for v in sorted(values)) for name, values in sorted(sets.items())}, left_out
    )


def suricata_iprep(
    indicators: Iterable[Mapping[str, Any]],
    category: int = 1,
    short_name: str = "AccordIOC",
    score: int = 127,
    now: datetime | None = None,
) -> tuple[str, str]:
    """(categories file, reputation file) for Suricata's ``reputation-categories-file`` and
    ``reputation-files``; CIDR ranges are allowed there."""
    if not 1 <= score <= 127 or not 0 < category < 60:
        raise ValueError("Suricata IP reputation needs a category 1-59 and a score 1-127")
    nets = sorted(
        {
            ipaddress.ip_network(obs.value)
            for ind in _exportable(indicators, now)
            for obs in ind.observables
            if obs.kind is Kind.ADDR
        },
        key=lambda n: (n.version, n.network_address, n.prefixlen),
    )
    categories = f"{category},{short_name},Accord shared indicators\n"
    lines = [f"{n.network_address if n.prefixlen == n.max_prefixlen else n},{category},{score}" for n in nets]
    return categories, "".join(f"{line}\n" for line in lines)
