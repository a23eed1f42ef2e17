"""TAXII 2.1 media types and content negotiation (TAXII 2.1 section 1.6.8 and 3.1)."""

from __future__ import annotations

TAXII_MEDIA = "application/taxii+json;version=2.1"
STIX_MEDIA = "application/stix+json;version=2.1"  # the media type of every object a collection holds
_ACCEPTABLE = {"*/*", "application/*", "application/taxii+json"}


def _parse(value: str) -> tuple[str, dict[str, str]]:
    kind, *params = (p.strip() for p in value.split(";"))
    parsed: dict[str, str] = {}
    for param in params:
        name, _, v = param.partition("=")
        parsed[name.strip().lower()] = v.strip().strip('"')
    return kind.lower(), parsed


def _is_taxii21(value: str) -> bool:
    kind, params = _parse(value)
    if kind not in _ACCEPTABLE:
        return False
    if kind != "application/taxii+json":
        return True
    return params.get("version", "2.1") == "2.1"


def accepts_taxii(accept: str | None) -> bool:
    """True unless the client's Accept header rules out TAXII 2.1 JSON (then: 406)."""
    if not accept or not accept.strip():
        return True
    for item in accept.split(","):
        kind, params = _parse(item)
        if params.get("q") in ("0", "0.0", "0.00", "0.000"):
            continue
        if _is_taxii21(item):
            return True
    return False


def is_taxii_content(content_type: str | None) -> bool:
    """A POST body must be TAXII 2.1 JSON (otherwise: 415)."""
    if not content_type:
        return False
    kind, params = _parse(content_type)
    return kind == "application/taxii+json" and params.get("version", "2.1") == "2.1"
