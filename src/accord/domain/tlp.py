"""TLP 2.0 levels and their STIX 2.1 marking definitions.

TLP 2.0 (FIRST, August 2022) defines CLEAR, GREEN, AMBER, AMBER+STRICT and RED. STIX 2.1 carries
them as marking-definition objects with fixed ids (the TLP 2.0 extension,
extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d); STIX 2.1 section 7.2.1.4 fixes the
TLP 1.0 ids, which we accept as aliases (WHITE = CLEAR, and the rest by name).

A few producers mark TLP 2.0 levels with ids of their own (:data:`VENDOR_MARKING_IDS`); this node
reads them as the level they stand for. Any other marking the node does not understand makes an
object TLP:RED (:func:`classify_markings`, docs/sharing.md "Markings the node understands").
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from enum import IntEnum
from typing import Any


class Tlp(IntEnum):
    """Ordered from least to most restrictive, so ``max`` is "the most restrictive applies"."""

    CLEAR = 0
    GREEN = 1
    AMBER = 2
    AMBER_STRICT = 3
    RED = 4

    @property
    def label(self) -> str:
        return "TLP:" + self.name.replace("_", "+")

    @classmethod
    def parse(cls, text: str) -> Tlp:
        """Accept ``amber+strict``, ``TLP:AMBER+STRICT``, ``white`` (TLP 1.0) and the like."""
        key = text.strip().upper().removeprefix("TLP:").replace("+", "_").replace("-", "_")
        if key == "WHITE":
            return cls.CLEAR
        try:
            return cls[key]
        except KeyError:
            raise ValueError(f"unknown TLP level {text!r} (CLEAR, GREEN, AMBER, AMBER+STRICT, RED)") from None


TLP2_MARKING_IDS: dict[Tlp, str] = {
    Tlp.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    Tlp.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    Tlp.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    Tlp.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    Tlp.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

TLP1_MARKING_IDS: dict[Tlp, str] = {
    Tlp.CLEAR: "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    Tlp.GREEN: "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    Tlp.AMBER: "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    Tlp.RED: "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
}

MARKING_TLP: dict[str, Tlp] = {
    **{mid: level for level, mid in TLP2_MARKING_IDS.items()},
    **{mid: level for level, mid in TLP1_MARKING_IDS.items()},
}
"""The standard ids: the TLP 1.0 objects of STIX 2.1 section 7.2.1.4 and the TLP 2.0 extension's."""

VENDOR_MARKING_IDS: dict[str, Tlp] = {
    # OpenCTI's TLP:AMBER+STRICT, fixed before TLP 2.0 had STIX ids: OpenCTI-Platform/opencti,
    # opencti-platform/opencti-graphql/src/schema/identifier.js (MARKING_TLP_AMBER_STRICT_ID). Its
    # other TLP markings use the TLP 1.0 ids (CLEAR the WHITE one); misp-stix uses the standard ids
    # only (docs/sharing.md has the table and sources).
    "marking-definition--826578e1-40ad-459f-bc73-ede076f81f37": Tlp.AMBER_STRICT,
}

TLP_BY_MARKING: dict[str, Tlp] = {**MARKING_TLP, **VENDOR_MARKING_IDS}

NON_RESTRICTING_MARKING_IDS = frozenset({
    # MITRE ATT&CK's copyright statement, referenced by every object of the ATT&CK bundles
    # (mitre-attack/attack-stix-data), which carry its definition last, after those objects.
    "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168",
})
"""Statement markings known to the node without their definition: they restrict no reader."""

TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"


def tlp_of(marking_refs: Iterable[str]) -> Tlp | None:
    """The most restrictive TLP among ``marking_refs``; None when no TLP marking is present."""
    found = [TLP_BY_MARKING[ref] for ref in marking_refs if ref in TLP_BY_MARKING]
    return max(found) if found else None


def classify_markings(marking_refs: Iterable[str], known_statement_ids: Collection[str],
                      group_marking_ids: Collection[str]) -> Tlp | None:
    """The TLP level that decides who reads an object with these markings (STIX 2.1 section 7.2).

    Each reference counts as its TLP level if it is a TLP id (standard or vendor); a sharing-group
    marking or a statement marking the node knows adds no level; any other reference is a marking
    the node does not understand and counts as TLP:RED. The most restrictive level applies; None
    when no reference gives a level (unmarked, treated as AMBER by the sharing policy).
    """
    found = None
    for ref in marking_refs:
        level = TLP_BY_MARKING.get(ref)
        if level is None:
            if ref in group_marking_ids or ref in known_statement_ids or ref in NON_RESTRICTING_MARKING_IDS:
                continue
            level = Tlp.RED
        if found is None or level > found:
            found = level
    return found


_MENTIONS_TLP = re.compile(r"\btlp\b", re.IGNORECASE)


def tlp_claims(definition: Mapping[str, Any]) -> set[Tlp | None]:
    """The TLP levels a marking-definition says it stands for (None for a level TLP does not have).

    A definition claims TLP by ``definition_type`` "tlp" (STIX 2.1 section 7.2.1.4), by the TLP 2.0
    extension's ``tlp_2_0`` property, by OpenCTI's ``x_opencti_definition_type`` "TLP", or by a name
    that starts with "TLP:".
    """
    claims: set[Tlp | None] = set()

    def claim(value: object) -> None:
        try:
            claims.add(Tlp.parse(value) if isinstance(value, str) else None)
        except ValueError:
            claims.add(None)

    name = definition.get("name")
    if isinstance(name, str) and name.strip().upper().startswith("TLP:"):
        claim(name)
    if str(definition.get("definition_type", "")).lower() == "tlp":
        inner = definition.get("definition")
        found = [v for k, v in inner.items() if isinstance(k, str) and k.lower() == "tlp"] if isinstance(
            inner, Mapping) else []
        for value in found or [name]:
            claim(value)
    if str(definition.get("x_opencti_definition_type", "")).upper() == "TLP":
        claim(definition.get("x_opencti_definition"))
    extensions = definition.get("extensions")
    if isinstance(extensions, Mapping):
        for ext in extensions.values():
            if isinstance(ext, Mapping) and "tlp_2_0" in ext:
                claim(ext["tlp_2_0"])
    return claims


def is_statement_marking(definition: Mapping[str, Any]) -> bool:
    """A statement marking (STIX 2.1 section 7.2.1.3) that restricts no reader: a copyright or terms
    of use. One that mentions TLP in its text or claims a TLP level is not taken as one."""
    inner = definition.get("definition")
    statement = inner.get("statement") if isinstance(inner, Mapping) else None
    return (definition.get("type") == "marking-definition" and definition.get("definition_type") == "statement"
            and isinstance(statement, str) and not _MENTIONS_TLP.search(statement) and not tlp_claims(definition))


def tlp1_marking_definition(level: Tlp) -> dict[str, Any]:
    """The STIX 2.1 marking-definition object of a TLP 1.0 level, as section 7.2.1.4 gives it."""
    name = "white" if level is Tlp.CLEAR else level.name.lower()
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP1_MARKING_IDS[level],
        "created": "2017-01-20T00:00:00.000Z",
        "definition_type": "tlp",
        "name": "TLP:" + name.upper(),
        "definition": {"tlp": name},
    }


def tlp2_marking_definition(level: Tlp) -> dict[str, Any]:
    """The standard STIX 2.1 marking-definition object of a TLP 2.0 level, as FIRST publishes it."""
    name = level.label.removeprefix("TLP:").lower()
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_MARKING_IDS[level],
        "created": "2022-10-01T00:00:00.000Z",
        "name": level.label,
        "extensions": {
            TLP2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": name},
        },
    }


def standard_marking_definition(marking_id: str) -> dict[str, Any] | None:
    """The standard object under a standard TLP id (TLP 1.0 or 2.0), None for any other id."""
    level = MARKING_TLP.get(marking_id)
    if level is None:
        return None
    return tlp2_marking_definition(level) if TLP2_MARKING_IDS[level] == marking_id else tlp1_marking_definition(level)
