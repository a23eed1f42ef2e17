"""Constituencies: the networks each partner answers for, and who answers for a given address.

A partner declares IP prefixes (IPv4 and IPv6), autonomous system numbers and domains. A lookup
returns *every* declaration that covers the query, most specific first, so that overlaps (a CERT
declaring a national /8 and a company inside it a /24) and disputes (two partners declaring the same
most specific prefix) are shown rather than silently resolved. The answer's owner is the longest
prefix (IP), the longest domain suffix (domains) or the exact number (ASN), when exactly one partner
holds it.

Declarations travel as ``x-accord-constituency`` objects (see ``accord.coordination.stix``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from accord.domain.errors import InvalidInput

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_ASN = re.compile(r"(?:AS)?(\d{1,10})\Z", re.IGNORECASE)
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)\Z")
ASN_MAX = 4_294_967_295  # RFC 6793: four-octet AS numbers


class QueryKind(StrEnum):
    IP = "ip"
    ASN = "asn"
    DOMAIN = "domain"


def parse_network(text: str) -> Network:
    """A prefix such as ``203.0.113.0/24`` or ``2001:db8::/32``; a bare address is a /32 or /128.

    Host bits must be zero: ``203.0.113.7/24`` is refused, since a declaration that does not say
    exactly what it covers cannot be compared with others.
    """
    try:
        return ipaddress.ip_network(text.strip(), strict=True)
    except ValueError as exc:
        raise InvalidInput(f"{text!r} is not an IP prefix ({exc})") from None


def parse_asn(text: str | int) -> int:
    """``AS64500``, ``as64500`` or ``64500``."""
    m = _ASN.match(str(text).strip())
    if m is None or not 0 < int(m.group(1)) <= ASN_MAX:
        raise InvalidInput(f"{text!r} is not an autonomous system number (AS1 to AS{ASN_MAX})")
    return int(m.group(1))


def normalise_domain(text: str) -> str:
    """Lower case, without a trailing dot, IDNA-encoded, every label valid (RFC 1035/5890)."""
    raw = text.strip().rstrip(".").lower()
    try:
        name = raw.encode("idna").decode("ascii") if not raw.isascii() else raw
    except UnicodeError:
        raise InvalidInput(f"{text!r} is not a domain name") from None
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 1 or not all(_LABEL.match(label) for label in labels):
        raise InvalidInput(f"{text!r} is not a domain name")
    return name


@dataclass(frozen=True, slots=True)
class Declaration:
    """One partner's current declaration (the latest version of its constituency object)."""

    org: str  # the partner's identity id
    name: str
    networks: tuple[Network, ...] = ()
    asns: tuple[int, ...] = ()
    domains: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Claim:
    """A declaration that covers the query: which partner, through which entry, how specifically."""

    org: str
    name: str
    entry: str
    specificity: int  # prefix length, or the number of domain labels; 0 for an ASN


@dataclass(frozen=True, slots=True)
class Answer:
    query: str
    kind: QueryKind
    claims: tuple[Claim, ...]  # most specific first, then by partner name

    @property
    def holders(self) -> tuple[Claim, ...]:
        """The claims at the highest specificity: the longest-prefix match."""
        if not self.claims:
            return ()
        top = self.claims[0].specificity
        return tuple(c for c in self.claims if c.specificity == top)

    @property
    def disputed(self) -> bool:
        """Several partners claim the most specific entry."""
        return len({c.org for c in self.holders}) > 1

    @property
    def overlapping(self) -> tuple[Claim, ...]:
        """Less specific claims of other partners than the holder(s)."""
        holders = {c.org for c in self.holders}
        return tuple(c for c in self.claims if c.org not in holders)

    @property
    def owner(self) -> str | None:
        """The one partner answering for the query, or None when nobody or several do."""
        orgs = {c.org for c in self.holders}
        return next(iter(orgs)) if len(orgs) == 1 else None


class ConstituencyIndex:
    """Declarations indexed for longest-prefix lookups: one dictionary probe per prefix length."""

    def __init__(self, declarations: Iterable[Declaration]) -> None:
        self._prefixes: dict[tuple[int, int, int], list[Claim]] = {}  # (version, length, network) -> claims
        self._lengths: dict[int, set[int]] = {4: set(), 6: set()}
        self._asns: dict[int, list[Claim]] = {}
        self._domains: dict[str, list[Claim]] = {}
        for d in declarations:
            for net in d.networks:
                key = (net.version, net.prefixlen, int(net.network_address))
                self._prefixes.setdefault(key, []).append(Claim(d.org, d.name, str(net), net.prefixlen))
                self._lengths[net.version].add(net.prefixlen)
            for asn in d.asns:
                self._asns.setdefault(asn, []).append(Claim(d.org, d.name, f"AS{asn}", 0))
            for domain in d.domains:
                self._domains.setdefault(domain, []).append(
                    Claim(d.org, d.name, domain, domain.count(".") + 1))

    def lookup(self, query: str) -> Answer:
        """Classify ``query`` (address, ``AS``number or domain) and collect every covering claim."""
        text = query.strip()
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            address = None
        if address is not None:
            claims: list[Claim] = []
            bits = address.max_prefixlen
            value = int(address)
            for length in self._lengths[address.version]:
                network = value >> (bits - length) << (bits - length) if length else 0
                claims += self._prefixes.get((address.version, length, network), [])
            return Answer(str(address), QueryKind.IP, _ordered(claims))
        if _ASN.match(text) and (text[:2].upper() == "AS" or text.isdigit()):
            asn = parse_asn(text)
            return Answer(f"AS{asn}", QueryKind.ASN, _ordered(self._asns.get(asn, [])))
        domain = normalise_domain(text)
        labels = domain.split(".")
        found: list[Claim] = []
        for start in range(len(labels)):
            found += self._domains.get(".".join(labels[start:]), [])
        return Answer(domain, QueryKind.DOMAIN, _ordered(found))


def _ordered(claims: Iterable[Claim]) -> tuple[Claim, ...]:
    return tuple(sorted(set(claims), key=lambda c: (-c.specificity, c.name, c.org, c.entry)))
