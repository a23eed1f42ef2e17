"""STIX 2.1 timestamps (section 3.2) and the node's own date_added clock.

A STIX timestamp is RFC 3339 in UTC with a mandatory ``Z`` and any sub-second precision. We keep a
fixed-width *key* (nanoseconds, nine digits) so that versions with different precisions order
correctly as strings, and integer microseconds for TAXII ``date_added``.
"""

from __future__ import annotations

import calendar
import re
import time
from datetime import UTC, datetime

_TS = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z\Z", re.ASCII)
# the same shape with every field's range but the day of the month's: one match settles most strings
_TS_IN_RANGE = re.compile(r"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:"
                          r"(?:[0-5]\d|60)(\.\d+)?Z\Z", re.ASCII)
_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_DAY_LIMITS = {f"{m:02d}": f"{d:02d}" for m, d in zip(range(1, 13), _DAYS, strict=True)}


class BadTimestamp(ValueError):
    pass


def _parts(text: object) -> tuple[int, int, int, int, int, int, str]:
    if not isinstance(text, str):
        raise BadTimestamp(f"{text!r} is not a timestamp string")
    m = _TS.match(text)
    if m is None:
        raise BadTimestamp(f"{text!r} is not a STIX timestamp (YYYY-MM-DDTHH:MM:SS[.s]Z)")
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    frac = m.group(7) or ""
    if not (1 <= mo <= 12 and 1 <= d <= _DAYS[mo - 1] and h <= 23 and mi <= 59 and s <= 60):
        raise BadTimestamp(f"{text!r} is not a valid date and time")
    if mo == 2 and d == 29 and not calendar.isleap(y):
        raise BadTimestamp(f"{text!r}: {y} is not a leap year")
    return y, mo, d, h, mi, s, frac


def timestamp_key(text: object) -> str:
    """A sortable fixed-width form: ``YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ``; raises BadTimestamp.

    This runs several times for every object ingested, so the common well-formed case is checked
    on the string itself; anything unusual goes through :func:`_parts` for a precise message.
    """
    if type(text) is str:
        m = _TS_IN_RANGE.match(text)
        if m is not None:
            day = text[8:10]
            if day < "29" or (day <= _DAY_LIMITS[text[5:7]] and (
                    day != "29" or text[5:7] != "02" or calendar.isleap(int(text[:4])))):
                frac = m.group(1)
                return f"{text[:19]}{frac[:10]:0<10}Z" if frac else f"{text[:19]}.000000000Z"
    y, mo_, d_, h, mi, s, frac = _parts(text)
    return f"{y:04d}-{mo_:02d}-{d_:02d}T{h:02d}:{mi:02d}:{s:02d}.{frac[:9].ljust(9, '0')}Z"


def key_to_display(key: str) -> str:
    """The key back as a STIX timestamp with millisecond precision at least (STIX 2.1 3.2)."""
    frac = key[20:29].rstrip("0")
    return f"{key[:19]}.{frac.ljust(3, '0')}Z"


def to_micros(text: object) -> int:
    """Microseconds since the epoch (sub-microsecond digits are dropped)."""
    y, mo, d, h, mi, s, frac = _parts(text)
    seconds = calendar.timegm((y, mo, d, h, mi, min(s, 59), 0, 0, 0))
    return seconds * 1_000_000 + int(frac[:6].ljust(6, "0"))


def micros_to_timestamp(micros: int) -> str:
    """TAXII 2.1 date_added as a STIX timestamp with microsecond precision."""
    dt = datetime.fromtimestamp(micros // 1_000_000, UTC)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{micros % 1_000_000:06d}Z"


def now_micros() -> int:
    return time.time_ns() // 1000
