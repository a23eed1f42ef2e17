"""Coverage-guided fuzzing (atheris, libFuzzer) of the parsers a request body and query string reach.

One input is split by its first byte: envelope bodies (``stix.envelope.loads`` then
``stix.validate.check_object`` on every object, as Add Objects does), STIX patterns
(``stix.patterns.pattern_errors``) and query strings (``web.filters.parse_filter``,
``services.objects.parse_limit`` and ``parse_next``). Each must return, or raise the node's own
``InvalidInput`` (a 4xx at the HTTP layer); any other exception is a crash that libFuzzer reports
with the input that caused it. The corpus starts from valid envelopes, patterns and queries.

    .venv/bin/python -m tests.fuzz.atheris_target -atheris_runs=20000      (tests/fuzz/test_atheris.py)
    .venv/bin/python -m tests.fuzz.atheris_target -max_total_time=600 CORPUS_DIR   (a longer campaign)
"""

from __future__ import annotations

import contextlib
import sys

import atheris

with atheris.instrument_imports():
    from starlette.datastructures import QueryParams

    from accord.domain.errors import InvalidInput
    from accord.services.objects import parse_limit, parse_next
    from accord.stix.envelope import loads
    from accord.stix.patterns import pattern_errors
    from accord.stix.validate import check_object
    from accord.web.filters import parse_filter


def _envelope(data: bytes) -> None:
    body = loads(data)
    if isinstance(body, dict) and isinstance(body.get("objects"), list):
        for obj in body["objects"]:
            with contextlib.suppress(InvalidInput):
                check_object(obj)


def _pattern(data: bytes) -> None:
    pattern_errors(data.decode("utf-8", "replace"))


def _query(data: bytes) -> None:
    params = QueryParams(data.decode("latin-1"))
    parse_filter(params)
    parse_limit(params.get("limit"))
    parse_next(params.get("next"))


_TARGETS = (_envelope, _pattern, _query)


def one_input(data: bytes) -> None:
    if not data:
        return
    with contextlib.suppress(InvalidInput):
        _TARGETS[data[0] % len(_TARGETS)](data[1:])


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
