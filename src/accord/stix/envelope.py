"""TAXII 2.1 envelopes (section 3.7) assembled from stored object bytes, without parsing them again."""

from __future__ import annotations

import orjson


def envelope(bodies: list[bytes], more: bool = False, next_token: str | None = None) -> bytes:
    """An envelope of serialised objects; ``{}`` when there are none and nothing more."""
    if not bodies and not more:
        return b"{}"
    head = b'{"more":true,"next":' + orjson.dumps(next_token) + b"," if more else b'{"more":false,'
    return head + b'"objects":[' + b",".join(bodies) + b"]}"
