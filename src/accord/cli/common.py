"""Options every command takes, output as rich tables or JSON, and errors as plain messages.

Only ``accord init`` and ``accord serve`` create a node; every other command opens the node that
exists in the data directory (or database) and fails, naming the place, when there is none, so a
mistyped ``--data-dir`` cannot make a second, empty node.

Every command module is imported for every ``accord`` command (``--help`` lists them all), so this
module and the command modules import only click, the standard library and pure domain modules at
their top; the store, the web, rich and the sensor's libraries are imported where a command uses
them (``tests/unit/test_cli_startup.py`` holds the line).
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

from accord.config import Settings
from accord.domain.errors import AccordError, NotFound

if TYPE_CHECKING:
    from rich.console import Console

    from accord.store.repository import Store

F = TypeVar("F", bound=Callable[..., Any])
NODE_CREATORS = frozenset({"init", "serve"})


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
    """The node's store, migrated; created only by the commands in :data:`NODE_CREATORS`."""
    from accord.bootstrap import open_store

    ctx = click.get_current_context()
    if ctx.command.name in NODE_CREATORS and ctx.parent is not None and ctx.parent.parent is None:
        return open_store(settings)
    return open_node(settings)


def open_node(settings: Settings) -> Store:
    """The store of the node that exists in ``settings``, migrated; NotFound if there is none."""
    from sqlalchemy import inspect, make_url

    from accord.bootstrap import open_store
    from accord.store.migrate import upgrade

    where = (make_url(settings.database_url).render_as_string(hide_password=True)
             if settings.database_url and settings.data_dir.is_dir() else str(settings.data_dir))
    missing = NotFound(f"no Accord node in {where}: check --data-dir (or ACCORD_DATA_DIR"
                       f"{', --database-url' if settings.database_url else ''}), or create one with "
                       f"`accord init --data-dir {settings.data_dir}`")
    if not settings.data_dir.is_dir() or (settings.database_url is None and not settings.db_path.is_file()):
        raise missing
    store = open_store(settings, migrate=False)
    initialised = None
    if inspect(store.engine).has_table("settings"):
        with store.read() as tx:
            initialised = tx.get_setting("initialised")
    if initialised is None:
        store.close()
        raise missing
    upgrade(store.engine)
    return store


class Output:
    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    @functools.cached_property
    def console(self) -> Console:
        from rich.console import Console

        return Console()

    @functools.cached_property
    def err(self) -> Console:
        from rich.console import Console

        return Console(stderr=True)

    def data(self, value: Any) -> None:
        import orjson

        sys.stdout.write(orjson.dumps(value).decode() + "\n")

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], raw: Any) -> None:
        if self.as_json:
            self.data(raw)
            return
        from rich.table import Table

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


# The optional dependencies (pyproject.toml) and the top-level modules each brings that a command imports.
EXTRAS = {
    "sensor": frozenset({"numpy", "pyarrow", "numba", "pandas", "pyspark", "stix2matcher"}),
    "ml": frozenset({"numpy", "sklearn", "matplotlib"}),
}


@contextlib.contextmanager
def needs_extra(extra: str, command: str) -> Iterator[None]:
    """Turn the import of a missing module of ``extra`` into a message naming the extra to install.

    ``make run`` (and ``pip install accord``) installs what a node needs, not the sensor's NumPy,
    PyArrow and Spark; a command that needs them says so instead of printing a traceback. Any other
    import error is a bug and is raised as it is.
    """
    try:
        yield
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] not in EXTRAS[extra]:
            raise
        raise click.ClickException(f"{command} needs the {extra} extra (missing module {exc.name}): "
                                   f"pip install 'accord[{extra}]'") from None


def add_switch_commands(group: click.Group, noun: str, key: str, setter: str,
                        disable_help: str, enable_help: str) -> None:
    """``disable NAME`` and ``enable NAME`` under ``group``, calling ``accord.services.admin.<setter>``
    (store, name, enabled) and reporting ``{key: name, "disabled": ...}``."""
    for enabled, verb, help_text in ((False, "disable", disable_help), (True, "enable", enable_help)):
        def switch(settings: Settings, name: str, enabled: bool = enabled, verb: str = verb) -> None:
            from accord.services import admin

            getattr(admin, setter)(store_for(settings), name, enabled)
            out().message(f"{noun} {name} {verb}d", {key: name, "disabled": not enabled})

        switch.__doc__ = help_text
        group.command(verb)(click.argument("name")(node_options(switch)))
