"""Norms for protected sectors: harm to them is escalated to every partner entitled to know.

States have agreed (UN GGE 2015 norm 13(f), reaffirmed by the OEWG) that some infrastructure should be
off limits: health care, emergency services, energy and power grids, water. Sectors are named with the
STIX 2.1 industry-sector vocabulary (section 10.12: ``healthcare``, ``government-emergency-services``,
``energy``, ``utilities``, ``water``...), which organisations on a node may spell a little differently;
:func:`canonical_sector` maps the usual variants so a ``health-care`` ISAC is recognised.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

from accord.domain.errors import InvalidInput

DEFAULT_PROTECTED: frozenset[str] = frozenset({
    "healthcare", "government-emergency-services", "energy", "utilities", "water",
})

# STIX 2.1 industry-sector-ov (section 10.12)
INDUSTRY_SECTORS: frozenset[str] = frozenset({
    "agriculture", "aerospace", "automotive", "chemical", "commercial", "communications", "construction",
    "defense", "education", "energy", "entertainment", "financial-services", "government",
    "government-emergency-services", "government-local", "government-national", "government-public-services",
    "government-regional", "healthcare", "hospitality-leisure", "infrastructure", "dams", "nuclear", "water",
    "insurance", "manufacturing", "mining", "non-profit", "pharmaceuticals", "retail", "technology",
    "telecommunications", "transportation", "utilities",
})

_VARIANTS = {
    "health-care": "healthcare", "health": "healthcare", "hospitals": "healthcare",
    "emergency-services": "government-emergency-services", "power": "energy", "electricity": "energy",
    "power-grid": "energy", "drinking-water": "water", "nonprofit": "non-profit",
}


class Priority(IntEnum):
    NORMAL = 0
    HIGH = 1
    TOP = 2

    @property
    def label(self) -> str:
        return self.name.lower()


def canonical_sector(text: str) -> str:
    key = text.strip().lower().replace(" ", "-").replace("_", "-")
    return _VARIANTS.get(key, key)


def protected_set(names: Iterable[str]) -> frozenset[str]:
    """The operator's configured list, checked against the STIX vocabulary."""
    chosen = frozenset(canonical_sector(n) for n in names if n.strip())
    unknown = sorted(chosen - INDUSTRY_SECTORS)
    if unknown:
        raise InvalidInput(f"not STIX industry sectors: {', '.join(unknown)} (see STIX 2.1 section 10.12)")
    return chosen


def protected_hits(victim_sectors: Iterable[str], protected: frozenset[str] = DEFAULT_PROTECTED) -> tuple[str, ...]:
    """The victim's sectors that are protected, in canonical form."""
    return tuple(sorted({canonical_sector(s) for s in victim_sectors} & protected))


@dataclass(frozen=True, slots=True)
class NormsFlag:
    """Why a subject (incident or sighting) is escalated."""

    subject: str
    victim: str
    sectors: tuple[str, ...]
    priority: Priority


def flag(subject: str, victim: str, victim_sectors: Iterable[str],
         protected: frozenset[str] = DEFAULT_PROTECTED) -> NormsFlag | None:
    """A top-priority flag when the victim is in a protected sector, otherwise None."""
    hits = protected_hits(victim_sectors, protected)
    return NormsFlag(subject, victim, hits, Priority.TOP) if hits else None
