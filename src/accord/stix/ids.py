"""What an identifier says about its object (STIX 2.1 section 2.9)."""

from __future__ import annotations


def is_deterministic(object_id: str) -> bool:
    """True for an id derived from the object's value: STIX 2.1 section 2.9 makes cyber-observable ids
    UUIDv5 of their ID contributing properties, so two organisations that saw the same address, domain
    or hash name it with the same id. Another UUID version is chosen by its producer."""
    _, sep, tail = object_id.partition("--")
    return bool(sep) and len(tail) == 36 and tail[14] == "5"
