"""Options every command takes, output as rich tables or JSON, and errors as plain messages."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click
import orjson
from rich.console import Console
from rich.table import Table

from accord.bootstrap import open_store
from accord.config import Settings
from accord.domain.errors import AccordError
from accord.store.repository import Store

F = TypeVar("F", bound=Callable[..., Any])


def node_options(func: F) -> F:
    """``--data-dir`` (ACCORD_DATA_DIR), ``--database-url`` (ACCORD_DATABASE_URL) and ``--json``."""

    @click.option("--data-dir", envvar="ACCORD_DATA_DIR", type=click.Path(file_okay=False),
                  help="Where the node keeps its files (default: ./.accord).")
    @click.option("--database-url", envvar="ACCORD_DATABASE_URL",
                  help="postgresql://... to use PostgreSQL instead of SQLite in the data directory.")
    @click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
    @functools.wraps(func)
    def wrapper(*args: Any, data_dir: str | None, database_url: str | None, as_json: bool, **kwargs: Any) -> Any:
        settings = Settings.from_env(data_dir, database_url)
        ctx = click.get_current_context()
        ctx.obj = Output(as_json)
        try:
            return func(*args, settings=settings, **kwargs)
        except AccordError as exc:
            raise click.ClickException(exc.message) from None

    return wrapper  # type: ignore[return-value]


def store_for(settings: Settings) -> Store:
    return open_store(settings)


class Output:
    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.console = Console()
        self.err = Console(stderr=True)

    def data(self, value: Any) -> None:
        sys.stdout.write(orjson.dumps(value).decode() + "\n")

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], raw: Any) -> None:
        if self.as_json:
            self.data(raw)
            return
        table = Table(title=title)
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        self.console.print(table)

    def message(self, text: str, raw: Any) -> None:
        if self.as_json:
            self.data(raw)
        else:
            self.console.print(text, highlight=False)


def out() -> Output:
    obj = click.get_current_context().obj
    assert isinstance(obj, Output)
    return obj
