"""Indicators of compromise as partners keep them in plain lists: detect, refang, normalise, pattern.

A list line holds one value (an address, a range, a domain, a URL, a file hash, an e-mail address),
often *defanged* so that it cannot be clicked (``hxxp://evil[.]example``). :func:`parse_ioc` turns
such a value into an :class:`Ioc` with its canonical form, or raises :class:`BadIoc` with a reason
meant for a ``file:line: reason`` report. :func:`stix_pattern` writes the STIX 2.1 pattern (section 9)
of an :class:`Ioc`, escaping the string constant as section 9.4 requires (a backslash before ``'``
and ``\\``), so no value can end the literal early and change the pattern's meaning.

The rules are in docs/lists.md ("Detection rules"); they are deliberately strict: a value that is
not clearly one kind is reported, not guessed.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from enum import Enum

MAX_VALUE = 2048  # bytes: longer values are not IOCs anyone matches on (URLs beyond 2 KiB are refused by most servers)


class IocKind(Enum):
    IPV4 = "ipv4"
    IPV6 = "ipv6"
    IPV4_CIDR = "ipv4-cidr"
    IPV6_CIDR = "ipv6-cidr"
    DOMAIN = "domain"
    URL = "url"
    MD5 = "md5"
    SHA1 = "sha1"
    SHA256 = "sha256"
    SHA512 = "sha512"
    EMAIL = "email"


TYPE_NAMES: dict[str, IocKind | None] = {
    **{k.value: k for k in IocKind},
    # None: an address or range whose family is decided by the value
    "ip": None, "ip-src": None, "ip-dst": None, "cidr": None, "ip-range": None,
    "ipv4-addr": IocKind.IPV4, "ipv6-addr": IocKind.IPV6,
    "hostname": IocKind.DOMAIN, "domain-name": IocKind.DOMAIN, "fqdn": IocKind.DOMAIN,
    "link": IocKind.URL, "uri": IocKind.URL,
    "sha-1": IocKind.SHA1, "sha-256": IocKind.SHA256, "sha-512": IocKind.SHA512,
    "email-addr": IocKind.EMAIL, "email-src": IocKind.EMAIL, "email-dst": IocKind.EMAIL, "e-mail": IocKind.EMAIL,
}
"""Names accepted in ``--type`` and in a type column (case-insensitive): ours, STIX's and MISP's usual ones."""

_ADDRESS_KINDS = frozenset({IocKind.IPV4, IocKind.IPV6, IocKind.IPV4_CIDR, IocKind.IPV6_CIDR})
_HASHES = {32: IocKind.MD5, 40: IocKind.SHA1, 64: IocKind.SHA256, 128: IocKind.SHA512}
# quoted keys, all of them: section 9 allows ``hashes.MD5`` and ``hashes.'MD5'`` alike, and the node's fast
# pattern check (accord.stix.patterns) takes the quoted form without the ANTLR parser
_HASH_PATH = {IocKind.MD5: "'MD5'", IocKind.SHA1: "'SHA-1'", IocKind.SHA256: "'SHA-256'",
              IocKind.SHA512: "'SHA-512'"}
_HEX = re.compile(r"[0-9a-fA-F]+\Z")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)\Z")
_TLD = re.compile(r"(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})\Z")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]{0,15})://")
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}\Z")
# defanging seen in the wild: [.] (.) {.} [dot] (dot), [:] , [at] (at) [@], hxxp / hxxps / fxp schemes
_DEFANGED_DOT = re.compile(r"\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\{dot\}", re.IGNORECASE)
_DEFANGED_AT = re.compile(r"\[at\]|\(at\)|\{at\}|\[@\]|\(@\)", re.IGNORECASE)
_DEFANGED_SCHEME = re.compile(r"\A(?:hxxp|hXXp|h\[xx\]p|meow)(s?)(?:\[:\]|:)//", re.IGNORECASE)
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


class BadIoc(ValueError):
    """A value that is not an IOC of the kind asked for; ``reason`` is what a report shows."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Ioc:
    kind: IocKind
    value: str  # canonical: lower-case hex, compressed IPv6, network address of a range, punycode domain


def type_named(name: str) -> IocKind | None:
    """The kind a type name stands for (None: an address, family from the value); BadIoc if unknown."""
    key = name.strip().lower()
    if key not in TYPE_NAMES:
        raise BadIoc(f"unknown type {name[:40]!r} (known: {', '.join(k.value for k in IocKind)}, ip, hostname, ...)")
    return TYPE_NAMES[key]


def refang(text: str) -> str:
    """Undo the usual defanging: ``hxxp[:]//a[.]b`` is ``http://a.b``, ``x[at]y[.]z`` is ``x@y.z``."""
    text = _DEFANGED_SCHEME.sub(lambda m: f"http{m.group(1).lower()}://", text)
    text = re.sub(r"\A(fxp|ftx)://", "ftp://", text, flags=re.IGNORECASE)
    text = text.replace("[:]", ":").replace("[/]", "/").replace("[://]", "://")
    return _DEFANGED_AT.sub("@", _DEFANGED_DOT.sub(".", text))


def _domain(text: str) -> str:
    name = text.rstrip(".").lower()
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            raise BadIoc("not a valid internationalised domain name") from None
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2:
        raise BadIoc("a domain needs at least two labels and at most 253 characters")
    if not all(_LABEL.match(label) for label in labels) or not _TLD.match(labels[-1]):
        raise BadIoc("not a domain name (labels of letters, digits and inner hyphens, an alphabetic top level)")
    return name


def _address(text: str, kind: IocKind | None) -> Ioc:
    try:
        if "/" in text:
            net = ipaddress.ip_network(text, strict=False)
            found = Ioc(IocKind.IPV4_CIDR if net.version == 4 else IocKind.IPV6_CIDR, str(net))
            if net.prefixlen == net.max_prefixlen:
                found = Ioc(IocKind.IPV4 if net.version == 4 else IocKind.IPV6, str(net.network_address))
        else:
            addr = ipaddress.ip_address(text)
            found = Ioc(IocKind.IPV4 if addr.version == 4 else IocKind.IPV6, str(addr))
    except ValueError:
        raise BadIoc("not an IP address or CIDR range") from None
    if kind is not None and found.kind is not kind and {kind, found.kind} not in (
            {IocKind.IPV4, IocKind.IPV4_CIDR}, {IocKind.IPV6, IocKind.IPV6_CIDR}):
        raise BadIoc(f"not an {kind.value} value (it reads as {found.kind.value})")
    return found


def _url(text: str) -> str:
    scheme = _SCHEME.match(text)
    if scheme is None:
        raise BadIoc("a URL needs a scheme (http://, https://, ftp://, ...)")
    rest = text[scheme.end():]
    host = re.split(r"[/?#]", rest, maxsplit=1)[0].rpartition("@")[2]
    if host.startswith("["):
        _address(host[1:host.find("]")] if "]" in host else "-", IocKind.IPV6)
    else:
        host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        try:
            _address(host, IocKind.IPV4)
        except BadIoc:
            _domain(host)
    return scheme.group(1).lower() + "://" + rest


def _email(text: str) -> str:
    local, _, domain = text.rpartition("@")
    if not _LOCAL_PART.match(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        raise BadIoc("not an e-mail address (local part)")
    return f"{local}@{_domain(domain)}"


def _detect(text: str) -> IocKind | None:
    if _SCHEME.match(text):
        return IocKind.URL
    if "@" in text:
        return IocKind.EMAIL
    if len(text) in _HASHES and _HEX.match(text):
        return _HASHES[len(text)]
    if ":" in text or text.replace(".", "").replace("/", "").isdigit():
        return None  # an address or a range
    return IocKind.DOMAIN


def parse_ioc(raw: str, kind: IocKind | None = None, detect: bool = True) -> Ioc:
    """The IOC in ``raw`` (refanged, normalised). ``kind`` forces a kind; with ``detect`` and no kind
    the kind is detected; without ``detect``, ``kind`` None means "an address or range"."""
    text = raw.strip()
    if not text:
        raise BadIoc("empty value")
    if len(text.encode()) > MAX_VALUE:
        raise BadIoc(f"value longer than {MAX_VALUE} bytes")
    text = refang(text)
    if _FORBIDDEN.search(text):
        raise BadIoc("the value contains spaces, control or invisible characters")
    if kind is None and detect:
        kind = _detect(text)
    if kind is None or kind in _ADDRESS_KINDS:
        return _address(text, kind)
    if kind is IocKind.DOMAIN:
        return Ioc(kind, _domain(text))
    if kind is IocKind.URL:
        return Ioc(kind, _url(text))
    if kind is IocKind.EMAIL:
        return Ioc(kind, _email(text))
    if not _HEX.match(text) or _HASHES.get(len(text)) is not kind:
        raise BadIoc(f"not an {kind.value} hash ({ {v: k for k, v in _HASHES.items()}[kind]} hex digits)")
    return Ioc(kind, text.lower())


def stix_literal(value: str) -> str:
    """A STIX 2.1 pattern string constant (section 9.4): quoted, with ``\\`` and ``'`` escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def stix_pattern(ioc: Ioc) -> str:
    """The STIX 2.1 pattern that matches exactly this IOC (one observation, one comparison)."""
    if ioc.kind in _HASH_PATH:
        path = f"file:hashes.{_HASH_PATH[ioc.kind]}"
    else:
        path = {IocKind.IPV4: "ipv4-addr", IocKind.IPV4_CIDR: "ipv4-addr", IocKind.IPV6: "ipv6-addr",
                IocKind.IPV6_CIDR: "ipv6-addr", IocKind.DOMAIN: "domain-name", IocKind.URL: "url",
                IocKind.EMAIL: "email-addr"}[ioc.kind] + ":value"
    return f"[{path} = {stix_literal(ioc.value)}]"
