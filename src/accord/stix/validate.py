"""Validation of STIX 2.1 objects as they arrive (STIX 2.1 sections 2, 3 and 4 to 7).

Written by hand rather than with the ``stix2`` library, which builds a Python object per STIX object
and costs about a millisecond each: ingest must validate tens of thousands of objects a second. The
checks follow the specification's MUST statements for common properties (section 3.2), identifiers
(2.9), timestamps (3.2), markings (7.2), and each type's required properties (sections 4 to 7).
Custom objects and properties (section 11) are kept as they are. ``tests/unit/test_validate.py``
compares verdicts with the ``stix2`` library on real and hostile objects.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from accord.domain.errors import InvalidObject
from accord.domain.tlp import TLP_BY_MARKING, standard_marking_definition, tlp_claims
from accord.stix.patterns import pattern_errors
from accord.stix.timestamps import BadTimestamp, timestamp_key

_TYPE = re.compile(r"[a-z0-9][a-z0-9-]{1,248}[a-z0-9]\Z")
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_ID = re.compile(rf"([a-z0-9][a-z0-9-]{{1,248}}[a-z0-9])--({_UUID})\Z")
_PROPERTY = re.compile(r"[a-z0-9_]{3,250}\Z")
_GOOD_NAMES = {"id"}  # grows with property names seen valid; "id" is the one shorter than 3
_GOOD_TYPES: set[str] = set()  # grows with object types seen valid

def is_stix_id(text: str) -> bool:
    """``type--UUID`` as STIX 2.1 section 2.9 defines an identifier."""
    return len(text) <= 300 and _ID.match(text) is not None


SCO_TYPES = frozenset({
    "artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message",
    "file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process", "software",
    "url", "user-account", "windows-registry-key", "x509-certificate",
})
_META_TYPES = frozenset({"marking-definition", "language-content", "extension-definition"})
_OPINIONS = frozenset({"strongly-disagree", "disagree", "neutral", "agree", "strongly-agree"})


class CheckedObject(NamedTuple):
    """A valid object with what the store indexes. ``version_key`` is "" for unversioned SCOs.
    (A named tuple: one is built per object ingested, several times faster than a frozen dataclass.)"""

    id: str
    type: str
    spec_version: str
    version_key: str
    revoked: bool
    marking_refs: tuple[str, ...]
    obj: Mapping[str, Any]


class _Bad(Exception):
    pass


_ID_TYPES: dict[str, str] = {}  # identifiers seen valid -> their type: producers and markings recur


def _is_id(value: object, of_type: str | None = None) -> bool:
    if not isinstance(value, str):
        return False
    found = _ID_TYPES.get(value)
    if found is None:
        m = _ID.match(value)
        if m is None:
            return False
        if len(_ID_TYPES) >= 4096:
            _ID_TYPES.clear()
        found = _ID_TYPES[value] = m.group(1)
    return of_type is None or found == of_type


def _ts(obj: Mapping[str, Any], name: str, required: bool = False) -> str | None:
    if name not in obj:
        if required:
            raise _Bad(f"missing required property '{name}'")
        return None
    try:
        return timestamp_key(obj[name])
    except BadTimestamp as exc:
        raise _Bad(f"'{name}': {exc}") from None


def _require(obj: Mapping[str, Any], *names: str) -> None:
    for name in names:
        if name not in obj:
            raise _Bad(f"missing required property '{name}'")


def _string(obj: Mapping[str, Any], name: str) -> None:
    if name in obj and (not isinstance(obj[name], str) or not obj[name]):
        raise _Bad(f"'{name}' must be a non-empty string")


def _ref_list(obj: Mapping[str, Any], name: str, of_type: str | None = None, nonempty: bool = True) -> None:
    if name not in obj:
        return
    refs = obj[name]  # null is no list: an optional property is absent, not null
    if not isinstance(refs, list) or (nonempty and not refs) or not all(_is_id(r, of_type) for r in refs):
        kind = f"{of_type} " if of_type else ""
        raise _Bad(f"'{name}' must be a {'non-empty ' if nonempty else ''}list of {kind}identifiers")


def _ref(obj: Mapping[str, Any], name: str, of_type: str | None = None) -> None:
    if name in obj and not _is_id(obj[name], of_type):
        raise _Bad(f"'{name}' must be an identifier{' of type ' + of_type if of_type else ''}")


def _int_range(obj: Mapping[str, Any], name: str, low: int, high: int) -> None:
    if name in obj:
        value = obj[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _Bad(f"'{name}' must be an integer from {low} to {high}")


def _common(obj: Mapping[str, Any]) -> tuple[str, ...]:
    """Section 3.2 common properties, where present; returns the object's marking refs."""
    for name in obj:
        if name not in _GOOD_NAMES:
            if not isinstance(name, str) or not _PROPERTY.match(name):
                raise _Bad(f"property name {name!r} is not 3-250 characters of a-z, 0-9 and _")
            if len(_GOOD_NAMES) < 10_000:  # names come from a small vocabulary: remember them
                _GOOD_NAMES.add(name)
    _ref(obj, "created_by_ref", "identity")
    if "revoked" in obj and not isinstance(obj["revoked"], bool):
        raise _Bad("'revoked' must be a boolean")
    if "labels" in obj and (not isinstance(obj["labels"], list) or not all(
            isinstance(v, str) and v for v in obj["labels"])):
        raise _Bad("'labels' must be a list of non-empty strings")
    _int_range(obj, "confidence", 0, 100)
    _string(obj, "lang")
    refs = obj.get("external_references")
    if refs is not None and (not isinstance(refs, list) or not all(
            isinstance(r, dict) and isinstance(r.get("source_name"), str) for r in refs)):
        raise _Bad("'external_references' must be a list of objects with a 'source_name'")
    _ref_list(obj, "object_marking_refs", "marking-definition")
    markings = list(obj.get("object_marking_refs", ()))
    granular = obj.get("granular_markings")
    if granular is not None:
        if not isinstance(granular, list) or not granular:
            raise _Bad("'granular_markings' must be a non-empty list")
        for g in granular:
            if not isinstance(g, dict) or not isinstance(g.get("selectors"), list) or not g["selectors"]:
                raise _Bad("each granular marking needs a non-empty 'selectors' list")
            if "marking_ref" in g:
                if not _is_id(g["marking_ref"], "marking-definition"):
                    raise _Bad("granular 'marking_ref' must be a marking-definition identifier")
                markings.append(g["marking_ref"])
            elif "lang" not in g:
                raise _Bad("each granular marking needs 'marking_ref' or 'lang'")
    extensions = obj.get("extensions")
    if extensions is not None and (not isinstance(extensions, dict) or not all(
            isinstance(v, dict) for v in extensions.values())):
        raise _Bad("'extensions' must map extension names to objects")
    return tuple(markings)


def _indicator(obj: Mapping[str, Any]) -> None:
    _require(obj, "pattern", "pattern_type", "valid_from")
    _string(obj, "pattern")
    _string(obj, "pattern_type")
    valid_from = _ts(obj, "valid_from")
    valid_until = _ts(obj, "valid_until")
    if valid_until is not None and valid_from is not None and valid_until <= valid_from:
        raise _Bad("'valid_until' must be later than 'valid_from'")
    if obj["pattern_type"] == "stix":
        errors = pattern_errors(obj["pattern"])
        if errors:
            raise _Bad("invalid STIX pattern: " + "; ".join(errors))


def _relationship(obj: Mapping[str, Any]) -> None:
    _require(obj, "relationship_type", "source_ref", "target_ref")
    _string(obj, "relationship_type")
    _ref(obj, "source_ref")
    _ref(obj, "target_ref")


def _sighting(obj: Mapping[str, Any]) -> None:
    _require(obj, "sighting_of_ref")
    _ref(obj, "sighting_of_ref")
    _int_range(obj, "count", 0, 999_999_999)
    first, last = _ts(obj, "first_seen"), _ts(obj, "last_seen")
    if first and last and last < first:
        raise _Bad("'last_seen' must not be earlier than 'first_seen'")
    _ref_list(obj, "observed_data_refs", "observed-data")
    _ref_list(obj, "where_sighted_refs")


def _observed_data(obj: Mapping[str, Any]) -> None:
    first, last = _ts(obj, "first_observed", True), _ts(obj, "last_observed", True)
    if first and last and last < first:
        raise _Bad("'last_observed' must not be earlier than 'first_observed'")
    _require(obj, "number_observed")
    _int_range(obj, "number_observed", 1, 999_999_999)
    if ("objects" in obj) == ("object_refs" in obj):
        raise _Bad("exactly one of 'objects' and 'object_refs' must be present")
    _ref_list(obj, "object_refs")


def _named(obj: Mapping[str, Any]) -> None:
    _require(obj, "name")
    _string(obj, "name")


def _with_refs(*required: str) -> Callable[[Mapping[str, Any]], None]:
    def check(obj: Mapping[str, Any]) -> None:
        _require(obj, *required)
        for name in required:
            if name.endswith("_refs"):
                _ref_list(obj, name)
            elif name in ("published",):
                _ts(obj, name, True)
            else:
                _string(obj, name)

    return check


def _malware(obj: Mapping[str, Any]) -> None:
    _require(obj, "is_family")
    if not isinstance(obj["is_family"], bool):
        raise _Bad("'is_family' must be a boolean")
    if obj["is_family"]:
        _named(obj)


def _opinion(obj: Mapping[str, Any]) -> None:
    _require(obj, "opinion", "object_refs")
    if not isinstance(obj["opinion"], str) or obj["opinion"] not in _OPINIONS:
        raise _Bad(f"'opinion' must be one of {', '.join(sorted(_OPINIONS))}")
    _ref_list(obj, "object_refs")


def _location(obj: Mapping[str, Any]) -> None:
    if not any(k in obj for k in ("region", "country", "latitude")):
        raise _Bad("a location needs 'region', 'country' or 'latitude' and 'longitude'")
    if ("latitude" in obj) != ("longitude" in obj):
        raise _Bad("'latitude' and 'longitude' go together")


def _marking_definition(obj: Mapping[str, Any]) -> None:
    if "extensions" not in obj and not ("definition_type" in obj and "definition" in obj):
        raise _Bad("a marking-definition needs 'definition_type' and 'definition', or 'extensions'")
    _tlp_definition(obj)


def _tlp_definition(obj: Mapping[str, Any]) -> None:
    """STIX 2.1 section 7.2.1.4: the TLP marking definitions are fixed objects with fixed ids.

    Under a standard TLP id, or a vendor's TLP id, a definition may say nothing but that id's level:
    producers re-serialise the standard objects their own way (OpenCTI exports ``definition_type``
    "TLP", its own name and properties), which changes no meaning, while a definition naming another
    level under the id is a forgery and refused. Under any other id, no definition may claim to be TLP
    (:func:`accord.domain.tlp.tlp_claims`). Objects that reference such an id are classified by the id
    alone, whatever a definition says (:func:`accord.domain.tlp.classify_markings`).
    """
    marking_id = obj["id"]
    claims = tlp_claims(obj)
    standard = standard_marking_definition(marking_id)
    level = TLP_BY_MARKING.get(marking_id)
    if level is not None:
        other = claims - {level}
        if other:
            named = ", ".join(sorted("a level TLP does not have" if c is None else c.label for c in other))
            whose = f"the {standard['name']} marking definition, a fixed object" if standard is not None else (
                f"a vendor's id for {level.label}")
            raise _Bad(f"{marking_id} is {whose} (STIX 2.1 section 7.2.1.4, TLP 2.0 extension): its definition "
                       f"names {named}")
    elif claims:
        raise _Bad(f"a TLP marking definition must have the id STIX 2.1 section 7.2.1.4 (or the TLP 2.0 "
                   f"extension) fixes for its level; {marking_id} is not a TLP id")


def _extension_definition(obj: Mapping[str, Any]) -> None:
    _require(obj, "name", "schema", "version", "extension_types", "created_by_ref")


def _language_content(obj: Mapping[str, Any]) -> None:
    _require(obj, "object_ref", "contents")
    _ref(obj, "object_ref")
    _ts(obj, "object_modified")


_CHECKS: dict[str, Callable[[Mapping[str, Any]], None]] = {
    "indicator": _indicator,
    "relationship": _relationship,
    "sighting": _sighting,
    "observed-data": _observed_data,
    "malware": _malware,
    "opinion": _opinion,
    "location": _location,
    "marking-definition": _marking_definition,
    "extension-definition": _extension_definition,
    "language-content": _language_content,
    "report": _with_refs("name", "published", "object_refs"),
    "note": _with_refs("content", "object_refs"),
    "grouping": _with_refs("context", "object_refs"),
    "malware-analysis": _with_refs("product"),
    **{t: _named for t in ("attack-pattern", "campaign", "course-of-action", "identity", "incident",
                           "infrastructure", "intrusion-set", "threat-actor", "tool", "vulnerability")},
}


def check_object(obj: object) -> CheckedObject:
    """Validate one STIX 2.1 object; raise :class:`InvalidObject` with the first reason found."""
    if not isinstance(obj, dict):
        raise InvalidObject(None, "each entry of 'objects' must be a JSON object")
    raw_id = obj.get("id")
    object_id = raw_id if isinstance(raw_id, str) else None
    try:
        return _check(obj)
    except _Bad as exc:
        raise InvalidObject(object_id, str(exc)) from None


def _check(obj: dict[str, Any]) -> CheckedObject:
    type_ = obj.get("type")
    if not isinstance(type_, str) or type_ not in _GOOD_TYPES:
        if not isinstance(type_, str) or not _TYPE.match(type_) or "--" in type_:
            raise _Bad("'type' must be 3-250 characters of a-z, 0-9 and single hyphens")
        if len(_GOOD_TYPES) < 1_000:  # types, too, come from a small vocabulary
            _GOOD_TYPES.add(type_)
    if type_ == "bundle":
        raise _Bad("a bundle is not a STIX object; post its 'objects' in an envelope")
    object_id = obj.get("id")
    if not isinstance(object_id, str):
        raise _Bad("missing required property 'id'")
    m = _ID.match(object_id)
    if m is None:
        raise _Bad(f"'id' {object_id!r} is not of the form type--UUID")
    if m.group(1) != type_:
        raise _Bad(f"'id' names type {m.group(1)!r} but 'type' is {type_!r}")
    is_sco = type_ in SCO_TYPES or (type_ not in _CHECKS and "created" not in obj)
    spec_version = obj.get("spec_version", "2.1" if is_sco else None)
    if spec_version is None:
        raise _Bad("missing required property 'spec_version'")
    if spec_version != "2.1":
        raise _Bad(f"'spec_version' {spec_version!r} is not supported: this node stores STIX 2.1")
    markings = _common(obj)
    if is_sco:
        version_key = _ts(obj, "modified") or _ts(obj, "created") or ""
    else:
        created = _ts(obj, "created", True)
        # a first version's 'modified' is usually the very string of its 'created'
        modified = created if obj.get("modified") == obj["created"] else (
            _ts(obj, "modified", type_ not in _META_TYPES) or created)
        assert created is not None and modified is not None
        if modified < created:
            raise _Bad("'modified' must not be earlier than 'created'")
        version_key = modified
    check = _CHECKS.get(type_)
    if check is not None:
        check(obj)
    return CheckedObject(object_id, type_, spec_version, version_key, obj.get("revoked") is True, markings, obj)
