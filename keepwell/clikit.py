"""What every command shares: the --database option, consoles, errors, progress, JSON.

Commands live beside their concept (`keepwell/<concept>/cli.py`) and only translate:
parse, call one service function, report. `keepwell/cli.py` gathers them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from keepwell import config
from keepwell.errors import ImportRejected, KeepwellError

if TYPE_CHECKING:  # the database layer loads when a command first opens the database
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

Database = Annotated[
    str | None,
    typer.Option(
        "--database",
        "-d",
        envvar=config.ENV_DATABASE_URL,
        help="Database URL or SQLite file (default: keepwell.db in your data directory).",
        show_envvar=True,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def engine_for(database: str | None) -> Engine:
    from keepwell import db

    return db.make_engine(config.database_url(database))


def ready_engine(database: str | None) -> Engine:
    """An engine on a database whose schema is current (else a clear error)."""
    from keepwell import db

    engine = engine_for(database)
    db.require_current(engine)
    return engine


@contextmanager
def engine_in_use(database: str | None) -> Iterator[Engine]:
    """ready_engine for a block; its connections are closed when the block ends (on
    SQLite the last one to close folds the write-ahead log into the database file)."""
    engine = ready_engine(database)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def session_for(database: str | None) -> Iterator[Session]:
    """A session on the database, committed when the block ends without error.

    On SQLite it starts as a writer (BEGIN IMMEDIATE): a command that reads, then writes,
    waits its turn behind a running `keepwell serve` instead of failing with "database
    is locked". Commands are short, so the brief exclusivity costs nothing.
    """
    from keepwell import db

    with engine_in_use(database) as engine:
        writer = engine.execution_options(**{db.SQLITE_WRITE: True})
        with db.transaction(writer) as session:
            yield session


@contextmanager
def errors() -> Iterator[None]:
    """Turn Keepwell's errors into a message and a non-zero exit status."""
    try:
        yield
    except ImportRejected as exc:
        err.print(exc.describe(), markup=False, highlight=False)
        raise typer.Exit(1) from None
    except KeepwellError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(1) from None


@contextmanager
def progress(label: str, enabled: bool = True) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on a terminal (and nothing elsewhere): call it with (done, total)."""
    if not enabled or not err.is_terminal:
        yield None
        return
    with Progress(
        TextColumn(label),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def print_json(data: Any) -> None:
    out.print_json(json.dumps(data, default=str))


def say(text: str) -> None:
    out.print(text, highlight=False, markup=False)


def money(minor: int, currency: str) -> str:
    return f"{minor / 100:,.2f} {currency}".strip()
