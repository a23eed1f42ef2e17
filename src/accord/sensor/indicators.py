"""STIX 2.1 indicators to observables: what the lookup tables can answer, and what needs the matcher.

STIX 2.1 §4.7 (Indicator): only ``pattern_type = "stix"`` is compiled; an indicator that is ``revoked``
(§3.2 common properties), whose ``valid_until`` has passed or whose ``valid_from`` is still ahead never
matches. Of several versions of one id the latest ``modified`` wins (§3.6 versioning).

STIX 2.1 §9 (Patterning): a pattern is *simple* when it is one observation expression, or observation
expressions joined by ``OR`` (observation operators), without qualifiers, whose comparison expressions
are non-negated ``=``, ``IN`` or ``ISSUBSET`` (comparison operators) joined by ``OR`` on object paths the
tables know. Such a pattern matches an event exactly when one of its observables does, so it compiles
to table entries. Every other pattern (``AND``, ``FOLLOWEDBY``, qualifiers, other operators) is
*residual*: the tables only pre-select candidate events from a necessary condition, and the OASIS
``stix2-matcher`` decides. A residual pattern without such a condition cannot be pre-selected and is
reported as skipped rather than silently never matching.

Accord's matching policy beyond plain string equality: an address constant may be a CIDR range (as the
ipv4-addr/ipv6-addr ``value`` property allows, §6.8-6.9) and matches every address in it, and a
domain-name matches its subdomains too.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from stix2 import patterns as p
from stix2.pattern_visitor import create_pattern_object

from accord.sensor import normalize
from accord.sensor.errors import IndicatorError
from accord.sensor.model import Kind, Observable, Role

_PATHS: dict[tuple[str, ...], tuple[Kind, Role]] = {
    ("ipv4-addr", "value"): (Kind.ADDR, Role.ANY),
    ("ipv6-addr", "value"): (Kind.ADDR, Role.ANY),
    ("network-traffic", "src_ref", "value"): (Kind.ADDR, Role.SRC),
    ("network-traffic", "dst_ref", "value"): (Kind.ADDR, Role.DST),
    ("domain-name", "value"): (Kind.DOMAIN, Role.ANY),
    ("url", "value"): (Kind.URL, Role.ANY),
    ("email-addr", "value"): (Kind.EMAIL, Role.ANY),
    ("email-message", "from_ref", "value"): (Kind.EMAIL, Role.ANY),
}
_HASH_NAMES = {"md5", "sha-1", "sha1", "sha-256", "sha256"}
_COMPARISONS = (p.EqualityComparisonExpression, p.InComparisonExpression, p.IsSubsetComparisonExpression)
_Necessary = frozenset[Observable] | None
# The overwhelmingly common shape, ``[type:path = 'value']``, is compiled without the ANTLR parser
# (about 100x faster, which matters for feeds of a million indicators); anything else goes through it.
_ESCAPE = re.compile(r"\\(.)")
_ONE_EQUALITY = re.compile(r"^\[\s*([a-z0-9-]+):([A-Za-z0-9_.'-]+)\s*=\s*'((?:[^'\\]|\\.)*)'\s*\]$")


@dataclass(frozen=True, slots=True)
class CompiledIndicator:
    """One active indicator: its observables, and its pattern when the tables alone cannot decide."""

    id: str
    name: str
    pattern: str
    observables: frozenset[Observable]
    residual: bool
    single_observation: bool


@dataclass(frozen=True, slots=True)
class Compilation:
    """All compiled indicators plus those left out and why (inactive ones are only counted)."""

    indicators: tuple[CompiledIndicator, ...]
    skipped: tuple[tuple[str, str], ...]
    inactive: int


def _timestamp(value: Any) -> datetime | None:
    return _parse_timestamp(value) if isinstance(value, str) else None


@functools.lru_cache(maxsize=4096)
def _parse_timestamp(text: str) -> datetime:
    """Cached: a feed's indicators share a few ``valid_from`` values, and parsing dominates otherwise."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def is_active(indicator: Mapping[str, Any], now: datetime) -> bool:
    """False for revoked indicators and those outside [valid_from, valid_until) (STIX 2.1 §4.7)."""
    if indicator.get("revoked"):
        return False
    until = _timestamp(indicator.get("valid_until"))
    start = _timestamp(indicator.get("valid_from"))
    return (until is None or now < until) and (start is None or start <= now)


def _path_of(lhs: p.ObjectPath) -> tuple[Kind, Role] | None:
    names = tuple(str(getattr(part, "property_name", "")) for part in lhs.property_path)
    if lhs.object_type_name == "file" and len(names) == 2 and names[0] == "hashes":
        return (Kind.HASH, Role.ANY) if names[1].strip("'").lower() in _HASH_NAMES else None
    return _PATHS.get((lhs.object_type_name, *names))


def _unescape(text: str) -> str:
    """STIX 2.1 §9 string constants escape ``'`` and ``\\`` with a backslash; stix2 keeps them escaped."""
    return _ESCAPE.sub(r"\1", text)


def _constants(rhs: Any) -> list[str]:
    if isinstance(rhs, p.ListConstant):
        return [_unescape(str(item.value)) for item in rhs.value]
    return [_unescape(str(rhs.value))] if isinstance(rhs, p.StringConstant) else []


def _observable(kind: Kind, role: Role, text: str) -> Observable | None:
    if kind is Kind.ADDR:
        found = normalize.network_range(text)
        return None if found is None else Observable(kind, found[3], role, found[:3])
    value = normalize.canonical(kind, text)
    return None if value is None else Observable(kind, value, role)


def _comparison(expr: Any) -> _Necessary:
    """The observables of one positive comparison, or None when it gives no lookup key."""
    if not isinstance(expr, _COMPARISONS) or expr.negated:
        return None
    if isinstance(expr, p.IsSubsetComparisonExpression) and expr.lhs.object_type_name not in (
        "ipv4-addr",
        "ipv6-addr",
        "network-traffic",
    ):
        return None
    target = _path_of(expr.lhs)
    if target is None:
        return None
    found = {_observable(target[0], target[1], text) for text in _constants(expr.rhs)}
    found.discard(None)
    return frozenset(o for o in found if o is not None) or None


def _necessary(expr: Any, inside_observation: bool) -> _Necessary:
    """Observables one of which every matching event must show (§9: AND needs one side, OR both)."""
    if isinstance(expr, p.ObservationExpression):
        return _necessary(expr.operand, True)
    if isinstance(expr, p.QualifiedObservationExpression):
        return _necessary(expr.observation_expression, inside_observation)
    if isinstance(expr, p.ParentheticalExpression):
        return _necessary(expr.expression, inside_observation)
    if isinstance(expr, p.OrBooleanExpression | p.OrObservationExpression):
        parts = [_necessary(op, inside_observation) for op in expr.operands]
        return None if any(part is None for part in parts) else frozenset().union(*parts)  # type: ignore[arg-type]
    if isinstance(expr, p.AndBooleanExpression):
        found = [part for op in expr.operands if (part := _necessary(op, True)) is not None]
        return frozenset().union(*found) if found else None
    if isinstance(expr, p.AndObservationExpression | p.FollowedByObservationExpression):
        parts = [_necessary(op, False) for op in expr.operands]
        return None if any(part is None for part in parts) else frozenset().union(*parts)  # type: ignore[arg-type]
    return _comparison(expr)


def _is_simple(expr: Any) -> bool:
    if isinstance(expr, p.OrObservationExpression):
        return all(_is_simple(op) for op in expr.operands)
    if isinstance(expr, p.ObservationExpression):
        return _simple_boolean(expr.operand)
    return False


def _simple_boolean(expr: Any) -> bool:
    if isinstance(expr, p.OrBooleanExpression):
        return all(_simple_boolean(op) for op in expr.operands)
    if isinstance(expr, p.ParentheticalExpression):
        return _simple_boolean(expr.expression)
    return _comparison(expr) is not None


def _quick(ident: str, pattern: str, name: str) -> CompiledIndicator | None:
    """A one-comparison pattern compiled directly; None when the pattern has any other shape."""
    found = _ONE_EQUALITY.match(pattern.strip())
    if found is None:
        return None
    object_type, path, text = found.groups()
    parts = path.split(".")
    if object_type == "file" and len(parts) == 2 and parts[0] == "hashes":
        target = (Kind.HASH, Role.ANY) if parts[1].strip("'").lower() in _HASH_NAMES else None
    else:
        target = None if "'" in path else _PATHS.get((object_type, *parts))
    if target is None:
        return None
    obs = _observable(target[0], target[1], _unescape(text))
    if obs is None:
        return None
    return CompiledIndicator(ident, name, pattern, frozenset({obs}), residual=False, single_observation=True)


def compile_indicator(indicator: Mapping[str, Any]) -> CompiledIndicator:
    """Compile one STIX indicator dict; raises IndicatorError when it cannot be used for matching."""
    ident = str(indicator.get("id", "indicator--?"))
    if indicator.get("pattern_type", "stix") != "stix":
        raise IndicatorError(ident, f"pattern_type {indicator.get('pattern_type')!r} is not 'stix'")
    pattern = indicator.get("pattern")
    if not isinstance(pattern, str):
        raise IndicatorError(ident, "no pattern")
    quick = _quick(ident, pattern, str(indicator.get("name", "")))
    if quick is not None:
        return quick
    try:
        tree = create_pattern_object(pattern, version="2.1")
    except Exception as exc:  # the ANTLR-based parser raises several unrelated types
        raise IndicatorError(ident, f"pattern does not parse: {exc}") from exc
    necessary = _necessary(tree, False)
    if necessary is None:
        raise IndicatorError(
            ident,
            "pattern has no =, IN or ISSUBSET comparison on a supported object path "
            "that every match must satisfy, so no event can be pre-selected for it",
        )
    single = isinstance(tree, p.ObservationExpression)
    return CompiledIndicator(
        ident,
        str(indicator.get("name", "")),
        pattern,
        necessary,
        residual=not _is_simple(tree),
        single_observation=single,
    )


def compile_indicators(objects: Iterable[Mapping[str, Any]], now: datetime | None = None) -> Compilation:
    """Latest version of every active STIX indicator among ``objects`` (other types are ignored)."""
    moment = now or datetime.now(UTC)
    latest: dict[str, Mapping[str, Any]] = {}
    for obj in objects:
        if obj.get("type") != "indicator":
            continue
        ident = str(obj.get("id"))
        previous = latest.get(ident)
        if previous is None or str(obj.get("modified", "")) >= str(previous.get("modified", "")):
            latest[ident] = obj
    compiled: list[CompiledIndicator] = []
    skipped: list[tuple[str, str]] = []
    inactive = 0
    for ident, obj in sorted(latest.items()):
        try:
            active = is_active(obj, moment)
        except ValueError:
            skipped.append((ident, "valid_from or valid_until is not an RFC 3339 timestamp"))
            continue
        if not active:
            inactive += 1
            continue
        try:
            compiled.append(compile_indicator(obj))
        except IndicatorError as exc:
            skipped.append((ident, exc.reason))
    return Compilation(tuple(compiled), tuple(skipped), inactive)
