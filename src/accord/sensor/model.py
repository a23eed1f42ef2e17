"""Domain values shared by the readers, the match kernel and the outputs.

Kept free of I/O so the kernel can be shipped unchanged to Spark executors.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Kind(enum.StrEnum):
    """What a log field or an indicator value is, which decides how it is normalised and looked up."""

    ADDR = "addr"  # IPv4/IPv6 address; on the indicator side also a CIDR range
    DOMAIN = "domain"  # matches the domain itself and every subdomain
    URL = "url"
    HASH = "hash"  # MD5, SHA-1 or SHA-256 hex digest (the length tells which)
    EMAIL = "email"
    USER = "user"  # never matched; only kept out of shared sightings (privacy)
    TIME = "time"  # event time, seconds since the epoch


# The log formats the readers know (``accord match --format``); "auto" tells them apart by content.
LOG_FORMATS = ("auto", "zeek", "zeek-json", "eve", "csv", "jsonl")

MATCHABLE = frozenset({Kind.ADDR, Kind.DOMAIN, Kind.URL, Kind.HASH, Kind.EMAIL})


class Role(enum.StrEnum):
    """Which end of a connection an address is, for STIX ``network-traffic:src_ref``/``dst_ref`` paths."""

    ANY = "any"
    SRC = "src"
    DST = "dst"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """A log column the kernel looks at: its name in the batch, its kind and (for addresses) its role."""

    name: str
    kind: Kind
    role: Role = Role.ANY


@dataclass(frozen=True, slots=True)
class Observable:
    """One normalised value an indicator matches (STIX 2.1 §9 comparison operators ``=``/``IN``/``ISSUBSET``)."""

    kind: Kind
    value: str
    role: Role = Role.ANY
    # (IP version, first, last address) of an address or range, parsed once at compile time
    span: tuple[int, int, int] | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Match:
    """One (event, indicator) pair: the unit of the JSON-lines output."""

    source: str
    line: int
    indicator: str
    field: str
    value: str
    time: float | None
    users: tuple[str, ...] = ()  # user names of the event (privacy: kept out of shared sightings)


@dataclass(frozen=True, slots=True)
class BadRecord:
    """A line that was skipped or partly used, with the reason, for the end-of-run report."""

    source: str
    line: int
    reason: str
