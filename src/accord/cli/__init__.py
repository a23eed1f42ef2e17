"""The ``accord`` command. ``accord`` alone is ``accord serve``.

Each capability keeps its commands in its own module, listed in ``_COMMAND_MODULES``; a module
exposes ``commands``, a list of click commands or groups to add to the top-level group.

Every command module is imported for every command, so that ``accord --help`` lists them all and a
module may add subcommands to a group another defines. They stay cheap to import: click, the
standard library and pure domain modules at their top, and the store, the web, rich or the
sensor's libraries inside the command that uses them (``tests/unit/test_cli_footprint.py``;
figures in docs/benchmarks.md, "Command start-up").
"""

from __future__ import annotations

import gc
import importlib
from typing import Any

import click

_COMMAND_MODULES = (
    "accord.cli.match",
    "accord.cli.node",
    "accord.cli.audit",
    "accord.cli.anomaly",
    "accord.cli.coordination",
    "accord.cli.federation",
    "accord.cli.privacy",
    "accord.cli.decay",
    "accord.cli.advisories",
    "accord.cli.assets",
    "accord.cli.notices",
    "accord.cli.search",
)
_DEFAULT_COMMAND = "serve"


class _DefaultGroup(click.Group):
    """A group that runs ``serve`` when no subcommand is given (as datasette does)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0].startswith("-") and args[0] not in ("--help", "-h", "--version")):
            args = [_DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)


@click.group(cls=_DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="accord")
def cli() -> None:
    """Accord: share threat intelligence (STIX 2.1 / TAXII 2.1), detect, federate and coordinate.

    Run without a subcommand to serve a node (``accord serve``).
    """


for _name in _COMMAND_MODULES:
    for _command in importlib.import_module(_name).commands:
        cli.add_command(_command)


def main(argv: list[str] | None = None) -> Any:
    """The ``accord`` script.

    A command that opens the store imports some 60,000 long-lived objects (SQLAlchemy above all).
    With the default thresholds the cyclic collector rescans them a few times while they are made and
    once more while the interpreter exits, about 150 ms of a 450 ms ``accord status``. So collections
    come less often for the process, as in a node's API workers (``bootstrap.GC_THRESHOLDS``, which
    ``accord serve`` sets for itself), and what exists when the command ends is frozen, which the
    collector at exit then skips.
    """
    gc.set_threshold(10_000, 10, 10)
    try:
        return cli.main(args=argv, prog_name="accord")
    finally:
        gc.freeze()
