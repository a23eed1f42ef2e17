"""TAXII 2.1 URL parameters (section 3.5): added_after, limit, next and match[...] filters."""

from __future__ import annotations

from starlette.datastructures import QueryParams

from accord.domain.errors import InvalidInput
from accord.stix.timestamps import BadTimestamp, timestamp_key, to_micros
from accord.store.objects import ObjectFilter, VersionFilter

_KNOWN = {"added_after", "limit", "next", "match[id]", "match[type]", "match[version]", "match[spec_version]"}


def _values(params: QueryParams, name: str) -> tuple[str, ...]:
    out: list[str] = []
    for raw in params.getlist(name):
        if "\x00" in raw:  # no identifier, type or timestamp holds one; PostgreSQL refuses it in text
            raise InvalidInput(f"{name} must not contain a NUL character")
        out.extend(v.strip() for v in raw.split(",") if v.strip())
    return tuple(out)


def parse_versions(values: tuple[str, ...]) -> VersionFilter:
    if not values:
        return VersionFilter()
    keys: list[str] = []
    for v in values:
        if v not in ("first", "last", "all"):
            try:
                keys.append(timestamp_key(v))
            except BadTimestamp:
                raise InvalidInput(f"match[version] takes first, last, all or timestamps, not {v!r}") from None
    return VersionFilter(first="first" in values, last="last" in values, all="all" in values, keys=tuple(keys))


def parse_filter(params: QueryParams, allow_version: bool = True) -> ObjectFilter:
    unknown = sorted(set(params.keys()) - _KNOWN)
    if unknown:
        raise InvalidInput(f"unsupported URL parameter(s): {', '.join(unknown)}")
    added_after = params.get("added_after")
    try:
        after = to_micros(added_after) if added_after is not None else None
    except ValueError as exc:  # BadTimestamp, or a year calendar arithmetic refuses (0000)
        raise InvalidInput(f"added_after: {exc}") from None
    except OverflowError:  # well formed, but before year 1 (the calendar's first)
        raise InvalidInput(f"added_after: {added_after!r} is out of range") from None
    versions = _values(params, "match[version]")
    if versions and not allow_version:
        raise InvalidInput("match[version] does not apply to this endpoint")
    return ObjectFilter(
        ids=_values(params, "match[id]"),
        types=_values(params, "match[type]"),
        spec_versions=_values(params, "match[spec_version]"),
        versions=parse_versions(versions),
        added_after=after,
    )
