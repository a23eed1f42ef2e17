"""TLP 2.0 levels and their STIX 2.1 marking definitions.

TLP 2.0 (FIRST, August 2022) defines CLEAR, GREEN, AMBER, AMBER+STRICT and RED. STIX 2.1 carries
them as marking-definition objects with fixed ids (the TLP 2.0 extension,
extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d); STIX 2.1 section 7.2.1.4 fixes the
TLP 1.0 ids, which we accept as aliases (WHITE = CLEAR, and the rest by name).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum


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

TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"


def tlp_of(marking_refs: Iterable[str]) -> Tlp | None:
    """The most restrictive TLP among ``marking_refs``; None when no TLP marking is present."""
    found = [MARKING_TLP[ref] for ref in marking_refs if ref in MARKING_TLP]
    return max(found) if found else None


def tlp2_marking_definition(level: Tlp) -> dict[str, object]:
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
