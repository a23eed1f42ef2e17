"""``accord load LIST.csv|LIST.txt``: the IOC list options of ``accord load`` and what they run.

``accord load`` (in :mod:`accord.cli.node`) hands a ``.csv`` or ``.txt`` file to :func:`load_list`;
the parsing and the storing are in :mod:`accord.interop.lists`, imported when a list is loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from accord.cli.common import out, store_for
from accord.config import Settings
from accord.domain.iocs import TYPE_NAMES, BadIoc, type_named
from accord.domain.tlp import Tlp

F = TypeVar("F", bound=Callable[..., Any])
LIST_SUFFIXES = (".csv", ".txt")
_TLP_CHOICES = click.Choice(["clear", "green", "amber", "amber+strict", "red"], case_sensitive=False)
_DEFAULTS = {"columns": None, "ioc_type": "auto", "tlp": None, "labels": (), "confidence": None, "valid_for": None}


def list_options(func: F) -> F:
    """The options that apply to IOC lists only."""
    for option in reversed([
        click.option("--columns", default=None, metavar="value=N,type=N,label=N,confidence=N,description=N",
                     help="CSV columns (1-based, or header names); default: the value in column 1."),
        click.option("--type", "ioc_type", default="auto", show_default=True, metavar="auto|" + "|".join(
            sorted(k for k, v in TYPE_NAMES.items() if v is not None and k == v.value)),
                     help="The kind of every value (a type column overrides it); auto detects each."),
        click.option("--tlp", type=_TLP_CHOICES, default=None, help="TLP 2.0 marking of every indicator [amber]."),
        click.option("--label", "labels", multiple=True, help="A label for every indicator; repeatable."),
        click.option("--confidence", type=click.IntRange(0, 100), default=None,
                     help="STIX confidence (0-100) of every indicator (a confidence column overrides it)."),
        click.option("--valid-for", default=None, metavar="90d|12h|4w",
                     help="Each indicator's valid_until is this long after loading."),
    ]):
        func = option(func)
    return func


def is_list(path: Path) -> bool:
    return path.suffix.lower() in LIST_SUFFIXES


def refuse_list_options(path: Path, options: dict[str, Any]) -> None:
    """A bundle carries its own markings and labels: list options on one would be silently ignored."""
    given = [name for name, default in _DEFAULTS.items() if options.get(name, default) != default]
    if given:
        flags = ", ".join("--" + n.replace("ioc_type", "type").replace("labels", "label").replace("_", "-")
                          for n in given)
        raise click.UsageError(f"{flags}: only for IOC lists (.csv, .txt), not for {path.name}")


def _options(columns: str | None, ioc_type: str, tlp: str | None, labels: tuple[str, ...],
             confidence: int | None, valid_for: str | None) -> Any:
    from accord.interop.lists import ListOptions, parse_columns
    from accord.services.admin import parse_expiry
    from accord.stix.timestamps import now_micros

    try:
        kind = None if ioc_type.lower() == "auto" else type_named(ioc_type)
    except BadIoc as exc:
        raise click.BadParameter(exc.reason, param_hint="--type") from None
    for label in labels:
        if not label.strip() or label.startswith(("=", "+", "-", "@")):
            raise click.BadParameter(f"{label!r}: a label is non-empty and does not start with = + - @",
                                     param_hint="--label")
    span = None
    if valid_for is not None:
        if valid_for[-1:] not in ("d", "h", "w"):
            raise click.BadParameter("a duration such as 90d, 12h or 4w", param_hint="--valid-for")
        now = now_micros()
        span = parse_expiry(valid_for, now) - now
    return ListOptions(parse_columns(columns), kind, ioc_type.lower() == "auto",
                       Tlp.parse(tlp) if tlp else Tlp.AMBER, tuple(labels), confidence, span)


def load_list(settings: Settings, path: Path, collection_name: str, account_name: str, **raw: Any) -> None:
    """Load an IOC list; bad lines are listed as ``file:line: reason`` and the command exits 1."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from accord.interop import lists
    from accord.services import admin

    options = _options(**raw)
    store = store_for(settings)
    principal = admin.principal_for(store, account_name)
    data = path.read_bytes()
    o = out()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=o.err, disable=o.as_json) as progress:
        reading = progress.add_task(f"reading {path.name}", total=data.count(b"\n") + (not data.endswith(b"\n")))
        parsed = lists.read_list(data, path.suffix.lower() == ".csv", options,
                           progress=lambda n: progress.advance(reading, n))
        progress.update(reading, completed=parsed.lines)
        storing = progress.add_task(f"storing {len(parsed.entries)} indicators", total=len(parsed.entries))
        done = lists.load_list(store, principal, collection_name, parsed, options,
                    progress=lambda n: progress.advance(storing, n))
    bad = [{"file": str(path), "line": line, "reason": reason} for line, reason in done.problems]
    raw_out = {"file": str(path), "lines": done.lines, "indicators": done.indicators, "stored": done.stored,
               "folded": done.folded, "header": done.header, "failed": len(bad), "failures": bad}
    o.message(f"{path.name}: {done.stored} of {done.indicators} indicators stored from {done.lines} lines"
              f" ({done.folded} duplicates folded, {len(bad)} bad lines)", raw_out)
    if not bad:
        return
    # a table to read on a terminal; plain ``file:line: reason`` lines for a pipe or an editor
    if not o.as_json and o.err.is_terminal:
        from rich.table import Table
        from rich.text import Text

        table = Table(title=f"Bad lines of {path}")
        table.add_column("file:line", no_wrap=True)
        table.add_column("reason")
        for item in bad:
            table.add_row(Text(f"{path}:{item['line']}"), Text(str(item["reason"])))
        o.err.print(table)
    elif not o.as_json:
        for item in bad:
            o.err.print(f"{path}:{item['line']}: {item['reason']}", highlight=False, markup=False, soft_wrap=True)
    raise SystemExit(1)

