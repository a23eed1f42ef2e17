"""Retention: how long each type of object is kept, per collection, and when a stored version expires.

A rule names a STIX type, a basis and a number of days:

* ``added``: the version expires ``days`` after the node stored it (its TAXII ``date_added``), e.g.
  sightings 90 days;
* ``valid_until``: for types with that property (STIX 2.1 section 4.7, Indicator), the version expires
  ``days`` (the grace) after its own ``valid_until``; a version without one never expires by this rule.

A rule of one collection overrides the node-wide rule (collection 0) of the same type; a type without
any rule is kept. Rules are validated when set and again when the server starts (:func:`parse_rule`),
so a typo cannot purge by mistake: an unknown type, a property the type lacks, negative or absurd
days are refused with the reason. Pure: the purge itself is ``accord.services.retention``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from accord.domain.errors import InvalidInput
from accord.stix.timestamps import to_micros

DAY = 24 * 3600 * 1_000_000
MAX_DAYS = 36_500  # a hundred years: more is a typo, not a policy
EVERY_COLLECTION = 0

STIX_TYPES = frozenset({
    # STIX 2.1 section 4 (domain objects), 5 (relationship objects), 6 (cyber-observable objects)
    "attack-pattern", "campaign", "course-of-action", "grouping", "identity", "incident", "indicator",
    "infrastructure", "intrusion-set", "location", "malware", "malware-analysis", "note", "observed-data",
    "opinion", "report", "threat-actor", "tool", "vulnerability", "relationship", "sighting",
    "artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message", "file",
    "ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process", "software", "url",
    "user-account", "windows-registry-key", "x509-certificate",
})
_CUSTOM = re.compile(r"x-[a-z0-9][a-z0-9-]{0,245}\Z")  # STIX 2.1 section 11.1 custom object types


class Basis(StrEnum):
    ADDED = "added"
    VALID_UNTIL = "valid_until"


HAS_VALID_UNTIL = frozenset({"indicator"})


@dataclass(frozen=True, slots=True)
class Rule:
    collection_id: int  # EVERY_COLLECTION for the node-wide rule
    type: str
    basis: Basis
    days: int

    def describe(self) -> str:
        if self.basis is Basis.ADDED:
            return f"{self.days} days after it was added"
        return f"{self.days} days after its valid_until"


def parse_rule(collection_id: int, obj_type: str, basis: str, days: int | str) -> Rule:
    """A rule from its parts, or InvalidInput saying what is wrong with it."""
    if obj_type not in STIX_TYPES and not _CUSTOM.match(obj_type):
        raise InvalidInput(f"unknown STIX type {obj_type!r} (a STIX 2.1 type, or a custom one starting x-)")
    try:
        chosen = Basis(basis)
    except ValueError:
        raise InvalidInput(f"unknown basis {basis!r}: one of {', '.join(b.value for b in Basis)}") from None
    if chosen is Basis.VALID_UNTIL and obj_type not in HAS_VALID_UNTIL:
        raise InvalidInput(f"{obj_type} has no property valid_until (only {', '.join(sorted(HAS_VALID_UNTIL))})")
    if isinstance(days, str):
        if not re.fullmatch(r"-?\d{1,9}", days.strip()):
            raise InvalidInput(f"days must be a whole number, not {days!r}")
        days = int(days)
    if type(days) is not int or days < 0:
        raise InvalidInput(f"a retention of {days} days: days must be 0 or more")
    if days > MAX_DAYS:
        raise InvalidInput(f"a retention of {days} days is more than {MAX_DAYS}: drop the rule to keep forever")
    return Rule(collection_id, obj_type, chosen, days)


def rule_for(rules: Mapping[tuple[int, str], Rule], collection_id: int, obj_type: str) -> Rule | None:
    """The collection's own rule for the type, else the node-wide one, else None (kept)."""
    return rules.get((collection_id, obj_type)) or rules.get((EVERY_COLLECTION, obj_type))


def index(rules: Iterable[Rule]) -> dict[tuple[int, str], Rule]:
    return {(r.collection_id, r.type): r for r in rules}


def expires_at(rule: Rule, date_added: int, obj: Mapping[str, Any] | None) -> int | None:
    """When a version expires under ``rule`` (microseconds), or None if it never does.

    ``obj`` (the stored body) is needed for the ``valid_until`` basis only."""
    if rule.basis is Basis.ADDED:
        return date_added + rule.days * DAY
    until = None if obj is None else obj.get("valid_until")
    if not isinstance(until, str):
        return None
    try:
        return to_micros(until) + rule.days * DAY
    except (ValueError, TypeError):
        return None  # a malformed stored valid_until never makes a version expire
