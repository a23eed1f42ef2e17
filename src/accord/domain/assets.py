"""The asset registry: what an organisation without a security team owns, so that it can be warned.

An organisation registers address ranges, domains, the software it runs (CPE 2.3 or
``vendor:product``), e-mail contacts, webhooks and the language its notices are written in. Ranges and
domains are parsed exactly as constituency declarations are (``accord.domain.coordination.
constituency``), and the registry answers "whose asset is this address or domain?" with the same
index, so a partner's constituency (whom it answers for) and its small organisations' assets (what
they own) are one way of thinking.

Two organisations claiming overlapping ranges, or the same domain (or one inside the other's), is a
dispute. A claim that would
create one is refused unless the registrar says it is disputed on purpose; a disputed claim is kept
and shown (``accord asset disputes``) and never merged, and what falls in the overlap is notified to
nobody until one of the claims is removed (:func:`owners`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from accord.domain.advisories import parse_language, parse_software, software_key
from accord.domain.coordination.constituency import (
    ConstituencyIndex,
    Declaration,
    Network,
    normalise_domain,
    parse_network,
)
from accord.domain.errors import InvalidInput

NETWORK, DOMAIN, SOFTWARE, CONTACT, WEBHOOK = "network", "domain", "software", "contact", "webhook"
KINDS = (NETWORK, DOMAIN, SOFTWARE, CONTACT, WEBHOOK)
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9.-]{1,253}\Z")

__all__ = ["CONTACT", "DOMAIN", "KINDS", "NETWORK", "SOFTWARE", "WEBHOOK", "Asset", "Dispute", "Registry",
           "disputes_with", "parse_asset", "parse_language"]


def parse_email(text: str) -> str:
    """An e-mail address for notices (RFC 5321 dot-atom local part, a valid domain), domain lower case."""
    value = text.strip()
    if not _EMAIL.match(value):
        raise InvalidInput(f"{text!r} is not an e-mail address such as it@example.org")
    local, _, domain = value.rpartition("@")
    return f"{local}@{normalise_domain(domain)}"


def parse_webhook(text: str) -> str:
    """An http(s) URL without credentials, where notices are POSTed as JSON."""
    value = text.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.username or parts.password:
        raise InvalidInput(f"{text!r} is not an http(s) URL without credentials")
    return value


def parse_asset(kind: str, text: str) -> str:
    """The normalised value of an asset of ``kind``; anything invalid is refused with the reason."""
    if kind == NETWORK:
        return str(parse_network(text))
    if kind == DOMAIN:
        return normalise_domain(text)
    if kind == SOFTWARE:
        return parse_software(text)
    if kind == CONTACT:
        return parse_email(text)
    if kind == WEBHOOK:
        return parse_webhook(text)
    raise InvalidInput(f"unknown asset kind {kind!r} ({', '.join(KINDS)})")


@dataclass(frozen=True, slots=True)
class Asset:
    org: str  # the organisation's name
    kind: str
    value: str
    disputed: bool = False  # registered knowing that it overlaps another organisation's claim


@dataclass(frozen=True, slots=True)
class Dispute:
    """Two organisations' claims on overlapping ranges or the same domain."""

    kind: str
    first: Asset
    second: Asset

    @property
    def overlap(self) -> str:
        if self.kind == DOMAIN:
            return max(self.first.value, self.second.value, key=len)
        a, b = ipaddress.ip_network(self.first.value), ipaddress.ip_network(self.second.value)
        return str(a if a.prefixlen >= b.prefixlen else b)


def _overlaps(a: Asset, b: Asset) -> bool:
    if a.org == b.org or a.kind != b.kind:
        return False
    if a.kind == DOMAIN:
        return a.value == b.value or a.value.endswith("." + b.value) or b.value.endswith("." + a.value)
    if a.kind == NETWORK:
        na, nb = ipaddress.ip_network(a.value), ipaddress.ip_network(b.value)
        return na.version == nb.version and na.overlaps(nb)
    return False


def disputes_with(new: Asset, existing: Iterable[Asset]) -> list[Dispute]:
    """The disputes registering ``new`` would create (ranges that overlap, the same domain)."""
    return [Dispute(new.kind, a, new) for a in existing if _overlaps(a, new)]


class Registry:
    """Every registered asset, for the questions notices ask: whose is this address, domain, software?"""

    def __init__(self, assets: Sequence[Asset]) -> None:
        self.assets = list(assets)
        by_org: dict[str, tuple[list[Network], list[str]]] = {}
        for a in self.assets:
            networks, domains = by_org.setdefault(a.org, ([], []))
            if a.kind == NETWORK:
                networks.append(parse_network(a.value))
            elif a.kind == DOMAIN:
                domains.append(a.value)
        self._index = ConstituencyIndex(Declaration(org, org, tuple(n), (), tuple(d))
                                        for org, (n, d) in by_org.items())
        self._software: dict[str, set[str]] = {}
        for a in self.assets:
            if a.kind == SOFTWARE:
                self._software.setdefault(software_key(a.value), set()).add(a.org)

    def disputes(self) -> list[Dispute]:
        found = []
        for i, a in enumerate(self.assets):
            found += [Dispute(a.kind, b, a) for b in self.assets[:i] if _overlaps(a, b)]
        return found

    def owners(self, address_or_domain: str) -> tuple[str, ...]:
        """The one organisation whose range or domain covers the query; none when nobody registered
        it or two organisations' claims cover it (a dispute)."""
        try:
            answer = self._index.lookup(address_or_domain)
        except InvalidInput:
            return ()
        # a covering claim of another organisation, even a less specific one, is a dispute: nested
        # ranges of two organisations are not a longest-prefix win, and neither is told of the other's
        if answer.owner is None or len({c.org for c in answer.claims}) > 1:
            return ()
        return (answer.owner,)

    def running(self, software: str) -> tuple[str, ...]:
        """The organisations that registered software with the same vendor and product."""
        return tuple(sorted(self._software.get(software_key(software), ())))
