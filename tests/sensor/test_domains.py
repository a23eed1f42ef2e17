"""The hashed domain pre-selection keeps every name the exact lookup would match, and little else."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.sensor import normalize
from accord.sensor.domains import DomainFilter

LABELS = st.sampled_from(["evil", "EVIL", "cdn", "a", "b", "x1", "bücher", "xn--bcher-kva", "-", "", "a b", "a/b"])
NAMES = st.lists(LABELS, min_size=1, max_size=4).map(".".join)
ODD = st.text(st.characters(codec="utf-8", blacklist_categories=("Cs",)), max_size=12)


def _exact(name: str, table: set[str]) -> bool:
    """The kernel's rule: the canonical name or any of its parent domains is an indicator."""
    canon = normalize.domain(name)
    return canon is not None and any(part in table for part in normalize.parent_domains(canon))


def _judged(name: str) -> bool:
    """Names the filter decides itself (the rest always go on to the exact lookup)."""
    return bool(name) and all(0x21 <= ord(c) <= 0x7E and c != "/" for c in name) and not name.endswith(".")


@settings(max_examples=400, deadline=None)
@given(
    st.lists(NAMES, max_size=6),
    st.lists(st.one_of(NAMES, NAMES.map(lambda n: "www." + n), ODD, st.none()), max_size=30),
    st.integers(0, 3),
)
def test_candidates_are_exactly_the_possible_hits(indicators: list[str], names: list[str | None], skip: int) -> None:
    table = {c for n in indicators if (c := normalize.domain(n)) is not None}
    array = pa.array([None] * skip + names, pa.string()).slice(skip)  # a sliced array, as concat gives
    chosen = set(DomainFilter(table).candidates(array).tolist())
    for position, name in enumerate(names):
        if name is None or not table:
            assert position not in chosen
        elif _judged(name):
            assert (position in chosen) == _exact(name, table), name  # a 64-bit hash collision would fail here
        else:
            assert position in chosen or not name


def test_large_string_dictionary_and_empty_inputs() -> None:
    big = pa.array(["Mail.EVIL.example", "evil.example.", "safe.example"], pa.large_string())
    assert DomainFilter(["evil.example"]).candidates(big).tolist() == [0, 1]
    assert DomainFilter([]).candidates(big).tolist() == []
    assert DomainFilter(["evil.example"]).candidates(pa.array([], pa.string())).tolist() == []
