"""The envelope assembled from stored bytes is the TAXII 2.1 envelope (section 3.7) of those objects."""

from __future__ import annotations

import orjson
import pytest

from accord.stix.envelope import envelope

OBJECTS = [{"type": "indicator", "id": f"indicator--{n:08d}-0000-4000-8000-000000000000", "name": "é\"x"}
           for n in range(3)]


@pytest.mark.parametrize("count", [0, 1, 3])
@pytest.mark.parametrize("more", [False, True])
def test_envelope_parses_to_the_objects(count: int, more: bool) -> None:
    bodies = [orjson.dumps(o) for o in OBJECTS[:count]]
    got = orjson.loads(envelope(bodies, more, "1764000000000001" if more else None))
    if count == 0 and not more:
        assert got == {}
        return
    want: dict[str, object] = {"more": more, "objects": OBJECTS[:count]}
    if more:
        want["next"] = "1764000000000001"
    assert got == want


def test_bodies_are_not_changed() -> None:
    bodies = [orjson.dumps(o) for o in OBJECTS]
    copy = list(bodies)
    envelope(bodies, True, "7")
    assert bodies == copy
