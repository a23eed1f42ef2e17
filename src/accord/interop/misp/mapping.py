"""What misp-stix does not map: MISP distribution, sharing groups and TLP tags to who may read.

MISP says who may read an event twice: by its TLP tags (the ``tlp`` taxonomy: ``tlp:clear``,
``tlp:white``, ``tlp:green``, ``tlp:amber``, ``tlp:amber+strict``, ``tlp:red``) and by its
``distribution`` (MISP core format, draft-dulaunoy-misp-core-format section 2.2.1.7: 0 your
organisation only, 1 this community only, 2 connected communities, 3 all communities, 4 a sharing
group, 5 inherit the event's). Attributes and objects carry both again, and may only narrow the
event (MISP never publishes an attribute beyond its event).

misp-stix (``MISPtoSTIX21Parser``) turns TLP tags into TLP marking-definitions per object but
ignores distribution and sharing groups, marks an attribute tagged ``tlp:clear`` inside a
``tlp:red`` event as CLEAR, and leaves observables (SCOs) unmarked, which this node reads as AMBER.
Each of those would widen, so every object it produces is re-marked here with the *narrowest* of
everything that applies to it (:class:`Reach`), and nothing is ever wider than MISP meant:

- TLP from the tags, the most restrictive tag winning; an unknown ``tlp:`` value (``tlp:ex:chr``)
  counts as RED; no TLP tag is AMBER, as for any unmarked object here (docs/sharing.md);
- narrowed by distribution: 0 RED to the owner alone (even inside a sharing group's event), 1
  AMBER, 2 GREEN, 3 no narrowing, 4 RED to a sharing group (its members read it, rule 3), 5 or
  absent as the enclosing event or object;
- a sharing group maps to the Accord group of the same name (or named by an explicit mapping);
  an unknown group, or two different groups on one object (MISP would need both, Accord reads a
  group marking as "any of"), leaves the object TLP:RED to the importing organisation alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from accord.domain.tlp import TLP2_MARKING_IDS, TLP_BY_MARKING, Tlp

TLP_TAGS: dict[str, Tlp] = {
    "clear": Tlp.CLEAR, "white": Tlp.CLEAR, "green": Tlp.GREEN, "amber": Tlp.AMBER,
    "amber+strict": Tlp.AMBER_STRICT, "red": Tlp.RED,
}
DISTRIBUTION_TLP: dict[int, Tlp | None] = {0: Tlp.RED, 1: Tlp.AMBER, 2: Tlp.GREEN, 3: None, 4: Tlp.RED}
DISTRIBUTIONS = {0: "your organisation only", 1: "this community only", 2: "connected communities",
                 3: "all communities", 4: "sharing group", 5: "inherit event"}
OWNER_ONLY = "\x00owner-only"  # a group that cannot be expressed: no group marking, TLP:RED
UNTAGGED = Tlp.AMBER


@dataclass(frozen=True, slots=True)
class Reach:
    """Who may read one MISP element: a TLP level and at most one MISP sharing group (its name or
    uuid as MISP gave it, or :data:`OWNER_ONLY`)."""

    tlp: Tlp
    group: str | None = None

    def narrow(self, other: Reach) -> Reach:
        """Both apply: the more restrictive TLP, and the group both name (else nobody but the owner)."""
        if self.group is None or other.group is None or self.group == other.group:
            group = self.group if other.group is None else other.group
        else:
            group = OWNER_ONLY
        return Reach(max(self.tlp, other.tlp), group)


def tag_names(element: Mapping[str, Any]) -> list[str]:
    """The names of an event's, attribute's or object's tags (``Tag``: a list of ``{"name": ...}``)."""
    tags = element.get("Tag")
    if not isinstance(tags, list):
        return []
    return [t["name"] for t in tags if isinstance(t, dict) and isinstance(t.get("name"), str)]


def tlp_of_tags(names: Iterable[str]) -> Tlp | None:
    """The most restrictive TLP among MISP tags (``tlp:amber``, ``TLP:AMBER+STRICT``, ``tlp:ex:chr``)."""
    found: Tlp | None = None
    for name in names:
        prefix, sep, value = name.strip().partition(":")
        if not sep or prefix.lower() != "tlp":
            continue
        level = TLP_TAGS.get(value.strip().strip('"').lower(), Tlp.RED)
        found = level if found is None else max(found, level)
    return found


def distribution_of(element: Mapping[str, Any]) -> int | None:
    """MISP distribution 0-5 (sent as an integer or a string); None when absent or not one of those,
    which :func:`reach_of` reads as "inherit"."""
    raw = element.get("distribution")
    if isinstance(raw, bool):
        return None
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw)
    return raw if isinstance(raw, int) and raw in DISTRIBUTIONS else None


def sharing_group_of(element: Mapping[str, Any]) -> str:
    """The name (else uuid) of a distribution-4 element's sharing group; OWNER_ONLY when not given."""
    group = element.get("SharingGroup")
    if isinstance(group, dict):
        for key in ("name", "uuid"):
            if isinstance(group.get(key), str) and group[key].strip():
                return str(group[key]).strip()
    return OWNER_ONLY


def reach_of(element: Mapping[str, Any], enclosing: Reach | None) -> Reach:
    """The reach of an event (``enclosing`` None) or of an attribute or object inside ``enclosing``."""
    tagged = tlp_of_tags(tag_names(element))
    if enclosing is None:
        own = Reach(tagged if tagged is not None else UNTAGGED)
    else:
        own = Reach(tagged) if tagged is not None else enclosing
    distribution = distribution_of(element)
    if distribution is not None and distribution != 5:
        level = DISTRIBUTION_TLP[distribution]
        group = sharing_group_of(element) if distribution == 4 else OWNER_ONLY if distribution == 0 else None
        own = own.narrow(Reach(level if level is not None else Tlp.CLEAR, group))
    return own if enclosing is None else enclosing.narrow(own)


def reaches(event: Mapping[str, Any]) -> tuple[Reach, dict[str, Reach]]:
    """The event's reach, and the reach of each attribute and object by MISP uuid (lower case)."""
    top = reach_of(event, None)
    by_uuid: dict[str, Reach] = {}
    for attribute in _dicts(event.get("Attribute")):
        _remember(by_uuid, attribute, reach_of(attribute, top))
    for obj in _dicts(event.get("Object")):
        inside = reach_of(obj, top)
        _remember(by_uuid, obj, inside)
        for attribute in _dicts(obj.get("Attribute")):
            _remember(by_uuid, attribute, reach_of(attribute, inside))
    return top, by_uuid


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _remember(by_uuid: dict[str, Reach], element: Mapping[str, Any], reach: Reach) -> None:
    if isinstance(element.get("uuid"), str):
        key = element["uuid"].lower()
        by_uuid[key] = by_uuid[key].narrow(reach) if key in by_uuid else reach


def _uuid_part(stix_id: str) -> str:
    return stix_id.partition("--")[2].lower()


def reach_of_stix(obj: Mapping[str, Any], top: Reach, by_uuid: Mapping[str, Reach],
                  resolved: dict[str, Reach]) -> Reach:
    """The reach of one object misp-stix made: misp-stix names each after the attribute or object it
    comes from (``indicator--<attribute uuid>``); a sighting has its target's, a relationship the
    narrower of its ends', anything else (report, grouping, identity, attack-pattern) the event's."""
    found = by_uuid.get(_uuid_part(str(obj.get("id", ""))))
    if found is not None:
        return top.narrow(found)
    ends: list[str] = []
    if obj.get("type") == "sighting":
        ends = [r for r in [obj.get("sighting_of_ref"), *(obj.get("observed_data_refs") or [])] if isinstance(r, str)]
    elif obj.get("type") == "relationship":
        ends = [r for r in (obj.get("source_ref"), obj.get("target_ref")) if isinstance(r, str)]
    reach = top
    for ref in ends:
        end = resolved.get(ref) or by_uuid.get(_uuid_part(ref))
        if end is not None:
            reach = reach.narrow(end)
    return reach


def apply_markings(objects: list[dict[str, Any]], top: Reach, by_uuid: Mapping[str, Reach],
                   group_markings: Mapping[str, str]) -> tuple[list[dict[str, Any]], dict[str, Reach]]:
    """Re-mark misp-stix's objects: each gets exactly the TLP 2.0 marking of its reach, plus the
    Accord sharing-group marking when its MISP group maps to one (``group_markings``: MISP name or
    uuid -> marking-definition id); a group that maps to none leaves it TLP:RED, for the owner only.
    misp-stix's own TLP marking-definitions are dropped (the node knows the TLP ids); any other
    marking it set is kept."""
    resolved: dict[str, Reach] = {}
    out = []
    for obj in sorted(objects, key=lambda o: o.get("type") in ("sighting", "relationship")):
        if obj.get("type") == "marking-definition":
            if obj.get("id") not in TLP_BY_MARKING:
                out.append(obj)
            continue
        reach = reach_of_stix(obj, top, by_uuid, resolved)
        marking = group_markings.get(reach.group) if reach.group is not None else None
        if reach.group is not None and marking is None:
            reach = Reach(Tlp.RED, OWNER_ONLY)
        resolved[str(obj.get("id"))] = reach
        kept = [r for r in obj.get("object_marking_refs") or [] if r not in TLP_BY_MARKING]
        obj = {**obj, "object_marking_refs": [TLP2_MARKING_IDS[reach.tlp], *([marking] if marking else []), *kept]}
        out.append(obj)
    return out, resolved
