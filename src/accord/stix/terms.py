"""What the search index keeps of a STIX 2.1 object: its addresses, domains, hashes, ATT&CK ids,
references and text.

Indicators (STIX 2.1 section 4.7) give their pattern's comparisons (section 9): ``ipv4-addr:value``,
``ipv6-addr:value`` and ``network-traffic`` ``src_ref.value``/``dst_ref.value`` (an address or CIDR
block, 6.8-6.9), ``domain-name:value`` (6.4) and the host of ``url:value`` (6.16), ``file:hashes.X``
(6.7). Only ``=``, ``IN`` and ``ISSUBSET`` constants are taken: a ``!=`` names what is *not* meant.
Observables give the same properties directly. ATT&CK ids come from ``external_references``
(section 2.5, ``external_id``). References are the ``*_ref``/``*_refs`` properties (and those of
extensions) that tie sightings, reports, incidents, notes and relationships to what they are about;
``created_by_ref`` and markings are left out, since they would tie everything to a few objects.

A regular expression reads the comparisons rather than the ANTLR parser: the index is built at ingest
of every indicator, and the parser costs 0.3-0.7 ms a pattern (``accord.stix.patterns``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from accord.domain.search import ATTACK_ID, AddressRange, address_range, hash_algorithm, normalise_domain

TEXT_PROPERTIES = ("name", "description", "aliases", "labels", "abstract", "content", "summary", "explanation")
MAX_TEXT = 32_000  # characters of text kept per object: a tsvector holds at most 1 MB
_SKIP_REFS = {"created_by_ref", "object_marking_refs"}
_LITERAL = r"'((?:[^'\\]|\\.)*)'"
_COMPARISON = re.compile(
    r"([a-z0-9-]+):([A-Za-z0-9_.'-]+)\s*(NOT\s+)?(=|!=|<=|>=|<|>|IN\b|ISSUBSET\b|ISSUPERSET\b|LIKE\b|MATCHES\b)\s*"
    rf"({_LITERAL}|\(\s*{_LITERAL}(?:\s*,\s*{_LITERAL})*\s*\))")
_STRINGS = re.compile(_LITERAL)
_ADDRESS_PATHS = {("ipv4-addr", "value"), ("ipv6-addr", "value"), ("network-traffic", "src_ref.value"),
                  ("network-traffic", "dst_ref.value")}


@dataclass(slots=True)
class Terms:
    addresses: list[AddressRange] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    hashes: list[tuple[str, str]] = field(default_factory=list)  # (algorithm, lower-case hex)
    attack: list[str] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)
    text: str = ""

    @property
    def empty(self) -> bool:
        return not (self.addresses or self.domains or self.hashes or self.attack or self.refs or self.text)


def _unescape(literal: str) -> str:
    return re.sub(r"\\(.)", r"\1", literal)


def _take(terms: Terms, obj_type: str, path: str, value: str) -> None:
    if (obj_type, path) in _ADDRESS_PATHS:
        found = address_range(value)
        if found is not None and found not in terms.addresses:
            terms.addresses.append(found)
    elif obj_type == "domain-name" and path == "value":
        _domain(terms, value)
    elif obj_type == "url" and path == "value":
        _domain(terms, _host(value))
    elif obj_type == "file" and path.startswith("hashes."):
        _hash(terms, value)


def _domain(terms: Terms, value: str) -> None:
    name = normalise_domain(value)
    if name is not None and name not in terms.domains:
        terms.domains.append(name)


def _hash(terms: Terms, value: str) -> None:
    algorithm = hash_algorithm(value)
    if algorithm is not None and (algorithm, value.lower()) not in terms.hashes:
        terms.hashes.append((algorithm, value.lower()))


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def pattern_terms(pattern: str, terms: Terms) -> None:
    """The constants of a pattern's ``=``/``IN``/``ISSUBSET`` comparisons on the indexed paths."""
    for obj_type, path, negated, op, constant, *_ in _COMPARISON.findall(pattern):
        if negated or op not in ("=", "IN", "ISSUBSET"):
            continue
        for literal in _STRINGS.findall(constant):
            _take(terms, obj_type, path.replace("'", ""), _unescape(literal))


def _refs(obj: dict[str, Any], out: list[str], depth: int = 0) -> None:
    for name, value in obj.items():
        if name in _SKIP_REFS:
            continue
        if name.endswith("_ref") and isinstance(value, str) and "--" in value:
            out.append(value)
        elif name.endswith("_refs") and isinstance(value, list):
            out.extend(v for v in value if isinstance(v, str) and "--" in v)
        elif name == "extensions" and isinstance(value, dict) and depth == 0:
            for ext in value.values():
                if isinstance(ext, dict):
                    _refs(ext, out, 1)


def _text(obj: dict[str, Any]) -> str:
    parts: list[str] = []
    for name in TEXT_PROPERTIES:
        value = obj.get(name)
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, list):
            parts.extend(v for v in value if isinstance(v, str))
    return " ".join(parts).replace("\x00", " ")[:MAX_TEXT]


def extract(obj: dict[str, Any]) -> Terms:
    """Everything the index keeps of one object (empty for a revoked one: it is no longer a claim)."""
    terms = Terms()
    if obj.get("revoked") is True:
        return terms
    obj_type = obj.get("type")
    if not isinstance(obj_type, str):
        return terms
    if obj_type == "indicator" and isinstance(obj.get("pattern"), str):
        pattern_terms(obj["pattern"], terms)
    elif obj_type in ("ipv4-addr", "ipv6-addr", "domain-name", "url") and isinstance(obj.get("value"), str):
        _take(terms, obj_type, "value", obj["value"])
    elif obj_type == "file" and isinstance(obj.get("hashes"), dict):
        for value in obj["hashes"].values():
            if isinstance(value, str):
                _hash(terms, value)
    refs = obj.get("external_references")
    if isinstance(refs, list):
        for ref in refs:
            ext = ref.get("external_id") if isinstance(ref, dict) else None
            if isinstance(ext, str) and ATTACK_ID.match(ext) and ext.upper() not in terms.attack:
                terms.attack.append(ext.upper())
    found: list[str] = []
    _refs(obj, found)
    terms.refs = list(dict.fromkeys(r for r in found if len(r) <= 300))
    terms.text = _text(obj)
    return terms
