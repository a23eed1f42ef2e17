"""The search box's language: what a query asks for, and the index keys of addresses and domains.

One box takes anything an analyst pastes ("anything on 203.0.113.5?", a domain, a hash, ``T0855``,
words). Each whitespace-separated term is classified on its own: an IPv4 or IPv6 address or CIDR
block, a hash (MD5, SHA-1, SHA-256, SHA-512 by length of hex), an ATT&CK id, a domain name; the words
left over are a free-text query over names and descriptions. Pure: the store turns the keys made here
into index lookups.

Addresses are kept as ranges ``[low, high]`` of 16-byte big-endian integers per family. CIDR blocks
are laminar (two are disjoint or nested), so the blocks that hold an address start at one of its 33
(IPv4) or 129 (IPv6) prefix networks: a point lookup is an ``IN`` over those starts with
``high >= address``, exact on a B-tree, instead of ``low <= x AND high >= x``, which scans half of it.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from enum import StrEnum

from accord.domain.errors import InvalidInput

MAX_QUERY = 512  # characters; a longer paste is not a search
MAX_TERMS = 16
_HASH_LENGTHS = {32: "MD5", 40: "SHA-1", 64: "SHA-256", 128: "SHA-512"}
_HEX = re.compile(r"[0-9a-fA-F]+\Z")
ATTACK_ID = re.compile(r"(?:T|TA|S|G|M|C|DS)\d{4}(?:\.\d{3})?\Z", re.IGNORECASE)
_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)\Z")
_TRIM = "\"'()[]{}<>,;!?"
_WORD = re.compile(r"\w+", re.UNICODE)


class Kind(StrEnum):
    ADDRESS = "address"
    DOMAIN = "domain"
    HASH = "hash"
    ATTACK = "attack"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class AddressRange:
    """A block of one family as 16-byte big-endian bounds (an address is a block of one)."""

    family: int  # 4 or 6
    low: bytes
    high: bytes
    text: str

    @property
    def is_point(self) -> bool:
        return self.low == self.high


@dataclass(frozen=True, slots=True)
class Term:
    kind: Kind
    value: str  # normalised: the block, the lower-case domain or hash, the upper-case ATT&CK id
    address: AddressRange | None = None


@dataclass(frozen=True, slots=True)
class Query:
    terms: tuple[Term, ...]
    words: tuple[str, ...]  # the free text left over, as word tokens

    @property
    def kinds(self) -> list[str]:
        return sorted({t.kind.value for t in self.terms} | ({Kind.TEXT.value} if self.words else set()))


def _bytes16(value: int) -> bytes:
    return value.to_bytes(16, "big")


def address_range(text: str) -> AddressRange | None:
    """The block an address or CIDR text names (host bits are cleared, as STIX 2.1 6.8 expects)."""
    if not text or len(text) > 64 or not text.isascii():
        return None
    try:
        net = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None
    return AddressRange(net.version, _bytes16(int(net.network_address)), _bytes16(int(net.broadcast_address)),
                        str(net) if net.prefixlen != net.max_prefixlen else str(net.network_address))


def covering_starts(point: AddressRange) -> list[bytes]:
    """The start of every prefix network holding ``point.low``: where a block that holds it begins."""
    bits = 32 if point.family == 4 else 128
    value = int.from_bytes(point.low, "big")
    return [_bytes16(value >> (bits - p) << (bits - p) if p < bits else value) for p in range(bits + 1)]


def normalise_domain(text: str) -> str | None:
    """A lower-case domain name without its final dot, or None when it is not one."""
    name = text.strip().rstrip(".").lower()
    if not name or len(name) > 253 or "." not in name:
        return None
    try:
        name = name.encode("idna").decode("ascii") if not name.isascii() else name
    except UnicodeError:
        return None
    labels = name.split(".")
    if not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        return None
    return name


def reversed_domain(name: str) -> str:
    """``a.example.com`` -> ``com.example.a.``: parents become prefixes, looked up exactly."""
    return ".".join(reversed(name.split("."))) + "."


def parent_keys(name: str) -> list[str]:
    """The reversed keys of the name and of each of its parents (``com.``, ``com.example.``, ...)."""
    labels = list(reversed(name.split(".")))
    return [".".join(labels[:n]) + "." for n in range(1, len(labels) + 1)]


def hash_algorithm(value: str) -> str | None:
    """The algorithm a hex digest's length names (MD5, SHA-1, SHA-256, SHA-512), or None."""
    return _HASH_LENGTHS.get(len(value)) if _HEX.match(value) else None


def classify(term: str) -> Term | None:
    """One term of the box, or None when it is a plain word."""
    addr = address_range(term)
    if addr is not None:
        return Term(Kind.ADDRESS, addr.text, addr)
    if hash_algorithm(term) is not None:
        return Term(Kind.HASH, term.lower())
    if ATTACK_ID.match(term):
        return Term(Kind.ATTACK, term.upper())
    domain = normalise_domain(term)
    if domain is not None:
        return Term(Kind.DOMAIN, domain)
    return None


def parse(text: str) -> Query:
    """The query a box's text asks for; :class:`InvalidInput` with the reason when it cannot be one."""
    if "\x00" in text:
        raise InvalidInput("the search contains a NUL character")
    if len(text) > MAX_QUERY:
        raise InvalidInput(f"the search is longer than {MAX_QUERY} characters")
    terms: list[Term] = []
    words: list[str] = []
    for raw in text.split():
        token = raw.strip(_TRIM)
        if token.endswith(".") and address_range(token.rstrip(".")) is not None:
            token = token.rstrip(".")
        found = classify(token) if token else None
        if found is not None:
            if found not in terms:
                terms.append(found)
        else:
            words.extend(w.lower() for w in _WORD.findall(raw))
    if not terms and not words:
        raise InvalidInput("the search is empty: type an address, a domain, a hash, an ATT&CK id or words")
    if len(terms) + len(words) > MAX_TERMS:
        raise InvalidInput(f"the search has more than {MAX_TERMS} terms")
    return Query(tuple(terms), tuple(dict.fromkeys(words)))
