"""One exception tree for the sensor, so the CLI can report any failure in one place.

Every message names what the operator can act on: the file and line for bad input, the indicator id for
a pattern that cannot be compiled, the URL for a TAXII failure.
"""

from __future__ import annotations


class SensorError(Exception):
    """Base of every error the sensor raises on purpose."""


class InputError(SensorError):
    """A log file that cannot be read at all (missing, unknown format, no header)."""

    def __init__(self, source: str, line: int, reason: str) -> None:
        super().__init__(f"{source}:{line}: {reason}")
        self.source = source
        self.line = line
        self.reason = reason


class IndicatorError(SensorError):
    """A STIX indicator that cannot be compiled into the matcher."""

    def __init__(self, indicator_id: str, reason: str) -> None:
        super().__init__(f"{indicator_id}: {reason}")
        self.indicator_id = indicator_id
        self.reason = reason


class ConfigError(SensorError):
    """Options that do not fit together (unknown format, bad column mapping, missing identity)."""


class TaxiiError(SensorError):
    """A TAXII 2.1 server answered with an error or something that is not TAXII."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
