"""MISP warninglists: known-benign values (public resolvers, cloud ranges, top sites) never alert.

Format (MISP ``misp-warninglists``, ``lists/<id>/list.json``, described by ``schema.json``): ``name``,
``type``, ``list`` and optionally ``matching_attributes`` (MISP attribute types the list applies to).
Types, with MISP's semantics:

- ``cidr``: the value is an address inside one of the ranges;
- ``string``: the value equals an entry (compared in canonical form, so case-insensitively for names);
- ``hostname``: the value (or the host of a URL) is an entry or a subdomain of one;
- ``substring``: an entry occurs in the value; ``regex``: an entry (a Python regex) matches the value.

Lists are applied to values that already matched an indicator (few), so even the 530,000 entries of
the full collection cost nothing per event. Which lists apply is configurable by list id (the directory
name): ``enabled`` keeps only those, ``disabled`` drops those.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from accord.sensor import normalize
from accord.sensor.addresses import AddressTable
from accord.sensor.errors import ConfigError
from accord.sensor.model import Kind

_ATTRIBUTE_KINDS: dict[str, Kind] = {
    "ip-src": Kind.ADDR,
    "ip-dst": Kind.ADDR,
    "domain|ip": Kind.ADDR,
    "ip-src|port": Kind.ADDR,
    "ip-dst|port": Kind.ADDR,
    "domain": Kind.DOMAIN,
    "hostname": Kind.DOMAIN,
    "url": Kind.URL,
    "uri": Kind.URL,
    "link": Kind.URL,
    "md5": Kind.HASH,
    "sha1": Kind.HASH,
    "sha256": Kind.HASH,
    "email": Kind.EMAIL,
    "email-src": Kind.EMAIL,
    "email-dst": Kind.EMAIL,
}


def attribute_kind(misp_type: str) -> Kind | None:
    """The kind of value a MISP attribute type holds, as the lists' ``matching_attributes`` use it."""
    return _ATTRIBUTE_KINDS.get(misp_type)


@dataclass(frozen=True, slots=True)
class WarningList:
    """One MISP warninglist: id (directory name), display name, type, entries, kinds it applies to."""

    id: str
    name: str
    type: str
    entries: tuple[str, ...]
    kinds: frozenset[Kind]


def load(directory: Path, enabled: Iterable[str] = (), disabled: Iterable[str] = ()) -> list[WarningList]:
    """Lists under ``directory`` (the ``lists`` folder of misp-warninglists or its parent)."""
    root = directory / "lists" if (directory / "lists").is_dir() else directory
    if not root.is_dir():
        raise ConfigError(f"{directory}: no MISP warninglists there (expected lists/<id>/list.json)")
    keep, drop = set(enabled), set(disabled)
    out = []
    for path in sorted(root.glob("*/list.json")):
        ident = path.parent.name
        if (keep and ident not in keep) or ident in drop:
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path}: not a readable warninglist: {exc}") from exc
        attributes = data.get("matching_attributes") or []
        kinds = frozenset(_ATTRIBUTE_KINDS[a] for a in attributes if a in _ATTRIBUTE_KINDS) or frozenset(Kind)
        out.append(
            WarningList(
                ident,
                str(data.get("name", ident)),
                str(data.get("type", "string")),
                tuple(str(e) for e in data.get("list", [])),
                kinds,
            )
        )
    unknown = keep - {wl.id for wl in out}
    if unknown:
        raise ConfigError(f"unknown warninglist(s): {', '.join(sorted(unknown))}")
    return out


class Benign:
    """The compiled lists; ``check`` answers which list (if any) makes a value benign."""

    def __init__(self, lists: Iterable[WarningList]) -> None:
        self.lists = list(lists)
        ranges = []
        self._strings: dict[str, list[int]] = {}
        self._hosts: dict[str, list[int]] = {}
        self._patterns: list[tuple[int, re.Pattern[str] | str]] = []
        for index, wl in enumerate(self.lists):
            for entry in wl.entries:
                if wl.type == "cidr":
                    if (found := normalize.network_range(entry)) is not None:
                        ranges.append((found[0], found[1], found[2], index))
                elif wl.type == "hostname":
                    if (host := normalize.domain(entry)) is not None:
                        self._hosts.setdefault(host, []).append(index)
                elif wl.type == "string":
                    self._strings.setdefault(entry.strip().lower().rstrip("."), []).append(index)
                elif wl.type == "substring":
                    self._patterns.append((index, entry.lower()))
                elif wl.type == "regex":
                    try:
                        self._patterns.append((index, re.compile(entry, re.IGNORECASE)))
                    except re.error:
                        continue
        self._ranges = AddressTable(ranges)
        self._cache: dict[tuple[Kind, str], str | None] = {}

    def check(self, kind: Kind, value: str) -> str | None:
        """Id of the first list that covers ``value`` of ``kind``, or None."""
        key = (kind, value)
        if key not in self._cache:
            self._cache[key] = self._check(kind, value)
        return self._cache[key]

    def _applies(self, indexes: Iterable[int], kind: Kind) -> str | None:
        return next((self.lists[i].id for i in indexes if kind in self.lists[i].kinds), None)

    def _check(self, kind: Kind, value: str) -> str | None:
        if kind is Kind.ADDR and (hit := self._applies(self._ranges.lookup(value), kind)):
            return hit
        text = value.strip().lower()
        canon = normalize.canonical(kind, value) if kind in (Kind.DOMAIN, Kind.URL, Kind.HASH, Kind.EMAIL) else text
        for candidate in {text, canon or text}:
            if hit := self._applies(self._strings.get(candidate.rstrip("."), ()), kind):
                return hit
        host = urlsplit(canon).hostname if kind is Kind.URL and canon else canon if kind is Kind.DOMAIN else None
        if host:
            found = [i for name in normalize.parent_domains(host) for i in self._hosts.get(name, ())]
            if hit := self._applies(found, kind):
                return hit
        for index, pattern in self._patterns:
            if kind not in self.lists[index].kinds:
                continue
            matched = pattern in text if isinstance(pattern, str) else pattern.search(value) is not None
            if matched:
                return self.lists[index].id
        return None
