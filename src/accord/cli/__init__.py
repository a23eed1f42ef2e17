"""The ``accord`` command. ``accord`` alone is ``accord serve``.

Each capability keeps its commands in its own module, listed in ``_COMMAND_MODULES``; a module
exposes ``commands``, a list of click commands or groups to add to the top-level group.
"""

from __future__ import annotations

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
    return cli.main(args=argv, prog_name="accord")
