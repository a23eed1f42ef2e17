"""IOC lists (``.csv``, ``.txt``) to STIX 2.1 indicators, stored like a TAXII add_objects.

A list is read line by line so that every problem names its line: a line that is too long, holds a
NUL byte, is not UTF-8, or whose value is not an IOC (:func:`accord.domain.iocs.parse_ioc`) is
reported as ``file:line: reason`` and the rest are loaded. Each IOC becomes one indicator (STIX 2.1
section 4.7) with a one-comparison pattern (section 9), the TLP 2.0 marking asked for, the labels
and the confidence (section 3.2). The same IOC on several lines is folded into one indicator (labels
joined, the highest confidence kept).

The indicators are stored through :func:`accord.services.admin.load_bundle`, which calls
:func:`accord.services.objects.add_objects`: validation (the pattern checked by the OASIS grammar),
privacy minimisation, the audit record and the federation outbox apply as to any TAXII client.
docs/lists.md describes the formats and the rules.
"""

from __future__ import annotations

import csv
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from accord.domain.errors import InvalidInput
from accord.domain.iocs import BadIoc, Ioc, IocKind, parse_ioc, stix_pattern, type_named
from accord.domain.tlp import TLP2_MARKING_IDS, Tlp
from accord.stix.timestamps import micros_to_timestamp, now_micros

if TYPE_CHECKING:
    from accord.domain.model import Principal
    from accord.store.repository import Store

MAX_LINE = 8192  # bytes; a list line is one IOC and a few short columns
COLUMN_NAMES = ("value", "type", "label", "confidence", "description")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # OWASP "CSV injection": cells a spreadsheet evaluates
_COMMENTS = ("#", "//", ";")
_WORDS = re.compile(r"[A-Za-z][A-Za-z0-9 _-]*\Z")


@dataclass(frozen=True, slots=True)
class ListOptions:
    """What the command line says about a list: where each column is, and what every IOC carries.

    ``columns`` maps a column name to a 1-based position (``"2"``) or a header name (``"ioc"``).
    ``kind`` None with ``detect`` detects each value's kind; None without it is "an address".
    """

    columns: dict[str, str] = field(default_factory=lambda: {"value": "1"})
    kind: IocKind | None = None
    detect: bool = True
    tlp: Tlp = Tlp.AMBER
    labels: tuple[str, ...] = ()
    confidence: int | None = None
    valid_for: int | None = None  # microseconds after loading that each indicator stops being valid


@dataclass(slots=True)
class Entry:
    ioc: Ioc
    line: int
    labels: set[str]
    confidence: int | None
    description: str | None


@dataclass(slots=True)
class Parsed:
    entries: list[Entry]
    problems: list[tuple[int, str]]  # (line, reason)
    lines: int
    folded: int = 0
    header: int | None = None  # the line taken as a header row


def parse_columns(text: str | None) -> dict[str, str]:
    """``value=1,type=2,label=4`` (1-based positions) or ``value=ioc,type=kind`` (header names)."""
    if not text:
        return {"value": "1"}
    found: dict[str, str] = {}
    for part in text.split(","):
        name, sep, where = (s.strip() for s in part.partition("="))
        if not sep or name not in COLUMN_NAMES or not where:
            raise InvalidInput(f"--columns: {part.strip()!r} is not NAME=COLUMN with NAME one of "
                               f"{', '.join(COLUMN_NAMES)}")
        if where.isdigit() and not 1 <= int(where) <= 1000:
            raise InvalidInput(f"--columns: column {where} is out of range (1-1000)")
        found[name] = where
    if "value" not in found:
        raise InvalidInput("--columns must say which column holds the value (value=N)")
    return found


def parse_confidence(text: str) -> int:
    """STIX 2.1 section 3.2: confidence is an integer 0-100."""
    if not (text.isascii() and text.isdigit()) or int(text) > 100:
        raise BadIoc(f"confidence {text[:20]!r} is not an integer from 0 to 100")
    return int(text)


def _decode(raw: bytes, number: int) -> str:
    if len(raw) > MAX_LINE:
        raise BadIoc(f"line longer than {MAX_LINE} bytes ({len(raw)})")
    if b"\x00" in raw:
        raise BadIoc("the line contains a NUL byte")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadIoc(f"not UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})") from None
    return text.removeprefix("\ufeff") if number == 1 else text


def _safe_text(cell: str, what: str) -> str:
    if cell.startswith(_FORMULA_START):
        raise BadIoc(f"{what} {cell[:30]!r} starts like a spreadsheet formula (CSV injection)")
    if any(ord(c) < 0x20 for c in cell):
        raise BadIoc(f"{what} contains control characters")
    return cell


def _cells(text: str, is_csv: bool) -> list[str]:
    if not is_csv:
        value = text.split(" #", 1)[0].split("\t#", 1)[0].strip()
        if any(c.isspace() for c in value):
            raise BadIoc("a .txt list holds one value a line (use a .csv file for several columns)")
        return [value]
    try:
        rows = list(csv.reader([text], strict=True))
    except csv.Error as exc:
        raise BadIoc(f"not a CSV row ({exc}); a field cannot span lines") from None
    return [c.strip() for c in rows[0]] if rows else []


class _Layout:
    """Column positions, resolved against the header row when the columns are named."""

    def __init__(self, columns: dict[str, str]) -> None:
        self.columns = columns
        self.named = any(not w.isdigit() for w in columns.values())
        self.index: dict[str, int] = {n: int(w) - 1 for n, w in columns.items() if w.isdigit()}

    def take_header(self, cells: Sequence[str]) -> None:
        lowered = [c.lower() for c in cells]
        for name, where in self.columns.items():
            if not where.isdigit():
                if where.lower() not in lowered:
                    raise InvalidInput(f"--columns {name}={where}: no such column in the header ({', '.join(cells)})")
                self.index[name] = lowered.index(where.lower())

    def cell(self, cells: Sequence[str], name: str) -> str | None:
        n = self.index.get(name)
        return None if n is None or n >= len(cells) else cells[n]


def _looks_like_header(cells: Sequence[str]) -> bool:
    """A first CSV row of plain words (``indicator,type``) none of which is an IOC is a header."""
    if not all(_WORDS.match(c) for c in cells):
        return False
    for cell in cells:
        try:
            parse_ioc(cell)
            return False
        except BadIoc:
            continue
    return True


def _entry(cells: Sequence[str], layout: _Layout, options: ListOptions, number: int) -> Entry:
    value = layout.cell(cells, "value")
    if value is None:
        raise BadIoc(f"no column {layout.index['value'] + 1} (the value column); the line has {len(cells)}")
    kind, detect = options.kind, options.detect
    typed = layout.cell(cells, "type")
    if typed:
        kind, detect = type_named(typed), False
    labels = set(options.labels)
    label = layout.cell(cells, "label")
    if label:
        labels.update(_safe_text(p.strip(), "label") for p in label.split("|") if p.strip())
    confidence = options.confidence
    given = layout.cell(cells, "confidence")
    if given:
        confidence = parse_confidence(given)
    description = layout.cell(cells, "description")
    return Entry(parse_ioc(value, kind, detect), number, labels, confidence,
                 _safe_text(description, "description") if description else None)


def read_list(raw: bytes, is_csv: bool, options: ListOptions,
              progress: Callable[[int], None] | None = None) -> Parsed:
    """Every IOC of a list, with each bad line's number and reason (a pure function of the bytes)."""
    layout = _Layout(options.columns if is_csv else {"value": "1"})
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    parsed = Parsed([], [], len(lines))
    seen: dict[Ioc, Entry] = {}
    first = True
    for number, line in enumerate(lines, start=1):
        if progress is not None and number % 1000 == 0:
            progress(1000)
        try:
            text = _decode(line.removesuffix(b"\r"), number).strip()
            if not text or text.startswith(_COMMENTS):
                continue
            cells = _cells(text, is_csv)
            if first:
                first = False
                if layout.named:
                    layout.take_header(cells)
                    parsed.header = number
                    continue
                if is_csv and _looks_like_header(cells):
                    parsed.header = number
                    continue
            entry = _entry(cells, layout, options, number)
        except BadIoc as exc:
            first = False
            parsed.problems.append((number, exc.reason))
            continue
        known = seen.get(entry.ioc)
        if known is None:
            seen[entry.ioc] = entry
            parsed.entries.append(entry)
        else:
            parsed.folded += 1
            known.labels |= entry.labels
            if entry.confidence is not None and (known.confidence is None or entry.confidence > known.confidence):
                known.confidence = entry.confidence
            known.description = known.description or entry.description
    if progress is not None:
        progress(len(lines) % 1000)
    return parsed


def indicator(entry: Entry, options: ListOptions, now: int) -> dict[str, Any]:
    """The STIX 2.1 indicator of one list entry (section 4.7), marked with the list's TLP level."""
    stamp = micros_to_timestamp(now)
    obj: dict[str, Any] = {
        "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
        "created": stamp, "modified": stamp, "name": entry.ioc.value,
        "pattern": stix_pattern(entry.ioc), "pattern_type": "stix", "valid_from": stamp,
        "object_marking_refs": [TLP2_MARKING_IDS[options.tlp]],
    }
    if options.valid_for is not None:
        obj["valid_until"] = micros_to_timestamp(now + options.valid_for)
    if entry.description:
        obj["description"] = entry.description
    if entry.labels:
        obj["labels"] = sorted(entry.labels)
    if entry.confidence is not None:
        obj["confidence"] = entry.confidence
    return obj


def to_indicators(parsed: Parsed, options: ListOptions, now: int | None = None) -> list[dict[str, Any]]:
    moment = now_micros() if now is None else now
    return [indicator(e, options, moment) for e in parsed.entries]


@dataclass(frozen=True, slots=True)
class Loaded:
    """What a load did: lines read, indicators stored, and every bad line as (line, reason)."""

    lines: int
    indicators: int
    stored: int
    folded: int
    header: int | None
    problems: list[tuple[int, str]]


def load_list(store: Store, principal: Principal, collection: str, parsed: Parsed, options: ListOptions,
              progress: Callable[[int], None] | None = None) -> Loaded:
    """Store a parsed list's indicators through the TAXII add_objects path; a refused indicator is
    reported against the line it came from."""
    from accord.services import admin

    objects = to_indicators(parsed, options)
    line_of = {obj["id"]: entry.line for obj, entry in zip(objects, parsed.entries, strict=True)}
    stored, failures = admin.load_bundle(store, principal, collection, list(objects), progress=progress)
    problems = list(parsed.problems) + [(line_of.get(f["id"], 0), f["message"]) for f in failures]
    return Loaded(parsed.lines, len(objects), stored, parsed.folded, parsed.header, sorted(problems))
