"""Commands that manage a node: init, serve, collections, organisations, keys, load, status, audit."""

from __future__ import annotations

import click

commands: list[click.Command] = []
