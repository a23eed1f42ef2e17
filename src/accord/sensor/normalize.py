"""Canonical forms, so an indicator and a log value compare equal exactly when they denote the same thing.

The same functions are used on both sides (indicator compile time and event match time) and by the tests'
reference matcher, which is what makes the kernel's answers identical to a careful reference.

- Addresses: ``ipaddress`` semantics; IPv4 leading zeros are refused (as Python does since 3.9.5).
- Domains: case-insensitive (RFC 4343), trailing root dot dropped, internationalised labels turned into
  their ASCII ``xn--`` form (IDNA, RFC 3490) so ``BÜCHER.example`` and ``xn--bcher-kva.example`` agree.
- URLs: RFC 3986 §6.2.2 syntax-based normalisation: scheme and host lower-cased, host IDNA-encoded,
  default port removed, empty path becomes ``/``, fragment dropped (it never reaches the server).
- Hashes: lower-case hex. E-mail addresses: lower-cased (all real mail systems treat them so).
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit, urlunsplit

from accord.sensor.model import Kind

_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21, "ws": 80, "wss": 443}
_HASH_LENGTHS = {32: "MD5", 40: "SHA-1", 64: "SHA-256"}
_HEX = frozenset("0123456789abcdef")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_V4 = re.compile(r"^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})(?:/([0-9]{1,2}))?$")


def domain(value: str) -> str | None:
    """The canonical domain name, or None when ``value`` is not one (empty, spaces, bad IDNA)."""
    text = value.strip().rstrip(".").lower()
    if not text or " " in text or "/" in text:
        return None
    if text.isascii():
        return text
    try:
        return text.encode("idna").decode("ascii")
    except UnicodeError:
        return None


def parent_domains(name: str) -> list[str]:
    """``a.b.example.com`` -> itself and every parent down to the last label, for subdomain matching."""
    out = [name]
    dot = name.find(".")
    while dot != -1:
        name = name[dot + 1 :]
        out.append(name)
        dot = name.find(".")
    return out


def url(value: str) -> str | None:
    """The RFC 3986 §6.2.2 normal form of an absolute URL, or None when it has no scheme and host."""
    text = value.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    scheme = parts.scheme.lower()
    host = domain(parts.hostname) if not parts.hostname.startswith("[") else parts.hostname
    if host is None:
        return None
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    if parts.username is not None:
        userinfo = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{userinfo}@{netloc}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def file_hash(value: str) -> str | None:
    """Lower-case hex digest when ``value`` has the length of MD5, SHA-1 or SHA-256."""
    text = value.strip().lower()
    if len(text) in _HASH_LENGTHS and set(text) <= _HEX:
        return text
    return None


def hash_algorithm(digest: str) -> str:
    """The STIX 2.1 hash-algorithm-ov name (§10, open vocabularies) for a normalised digest."""
    return _HASH_LENGTHS[len(digest)]


def email(value: str) -> str | None:
    """A lower-cased ``local@domain`` address with an IDNA domain, or None."""
    text = value.strip()
    local, at, dom = text.rpartition("@")
    if not at or not local or " " in local:
        return None
    canonical = domain(dom)
    return None if canonical is None else f"{local.lower()}@{canonical}"


def address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An IP address (Zeek ``addr``; brackets and IPv6 zone ids accepted), or None."""
    text = value.strip().strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def network(value: str) -> IPNetwork | None:
    """An address or CIDR range, host bits ignored (STIX 2.1 ipv4-addr/ipv6-addr ``value`` allows CIDR)."""
    try:
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return None


def network_range(value: str) -> tuple[int, int, int, str] | None:
    """(IP version, first address, last address, canonical CIDR text) of an address or range.

    Same answers as ``ipaddress.ip_network(value, strict=False)``; dotted quads take a fast path,
    because a feed of a million indicators is mostly IPv4 and ``ipaddress`` costs ~20 us per value.
    """
    text = value.strip()
    quad = _V4.match(text)
    if quad is None:
        net = network(text)
        return None if net is None else (net.version, int(net.network_address), int(net.broadcast_address), str(net))
    p1, p2, p3, p4, bits = quad.groups()
    if (p1[0] == "0" < p1) or (p2[0] == "0" < p2) or (p3[0] == "0" < p3) or (p4[0] == "0" < p4):
        return None  # a leading zero ("01" > "0"), which ipaddress refuses as ambiguous
    a, b, c, d = int(p1), int(p2), int(p3), int(p4)
    prefix = 32 if bits is None else int(bits)
    if a > 255 or b > 255 or c > 255 or d > 255 or prefix > 32:
        return None
    host_bits = (1 << (32 - prefix)) - 1
    start = ((a << 24) | (b << 16) | (c << 8) | d) & ~host_bits
    return (
        4,
        start,
        start | host_bits,
        f"{start >> 24}.{(start >> 16) & 255}.{(start >> 8) & 255}.{start & 255}/{prefix}",
    )


def canonical(kind: Kind, value: str) -> str | None:
    """The canonical text of a non-address value of ``kind`` (addresses go through ``network``)."""
    if kind is Kind.DOMAIN:
        return domain(value)
    if kind is Kind.URL:
        return url(value)
    if kind is Kind.HASH:
        return file_hash(value)
    if kind is Kind.EMAIL:
        return email(value)
    raise ValueError(f"{kind} values are not matched by text")
