"""MISP events and feeds for the tests, built with PyMISP (``MISPEvent``), as MISP itself writes them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pymisp import MISPEvent, MISPOrganisation, MISPSighting

CIRCL = ("CIRCL", "55f6ea5e-2c60-40e5-964f-47a8950d210f")
ICS_ISAC = ("ICS-ISAC", "5d3a3f02-45b8-4c8b-9d6e-1c1a6c7b1f10")


def org(name: str, uuid: str) -> MISPOrganisation:
    found = MISPOrganisation()
    found.from_dict(name=name, uuid=uuid)
    return found


def sighting(who: tuple[str, str], when: int = 1_700_000_000, kind: str = "0") -> MISPSighting:
    found = MISPSighting()
    found.from_dict(type=kind, date_sighting=when, source="sensor", Organisation={"name": who[0], "uuid": who[1]})
    return found


def event(info: str = "Phishing wave against water utilities", *, tlp: str | None = "tlp:amber",
          distribution: int | None = 1, timestamp: int = 1_700_000_000) -> MISPEvent:
    found = MISPEvent()
    found.info = info
    found.Orgc = org(*CIRCL)
    found.timestamp = timestamp
    found.date = "2023-11-14"
    if distribution is not None:
        found.distribution = distribution
    if tlp:
        found.add_tag(tlp)
    return found


def as_dict(e: MISPEvent, *, feed: bool = False) -> dict[str, Any]:
    """The event as a file holds it: ``{"Event": {...}}``; ``feed`` as a MISP feed serves it."""
    if feed:
        return e.to_feed()
    return {"Event": json.loads(e.to_json())}


def write_feed(directory: Path, events: list[MISPEvent]) -> Path:
    """A MISP feed as PyMISP's feed generator writes it: manifest.json, <uuid>.json, hashes.csv."""
    directory.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {}
    hashes: list[str] = []
    for e in events:
        (directory / f"{e.uuid}.json").write_text(json.dumps(as_dict(e, feed=True)))
        manifest.update(e.manifest)
        hashes += [f"{h},{e.uuid}" for h in e.attributes_hashes("md5")]
    (directory / "manifest.json").write_text(json.dumps(manifest))
    (directory / "hashes.csv").write_text("".join(f"{h}\n" for h in hashes))
    return directory
