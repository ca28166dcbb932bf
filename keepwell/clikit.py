"""What every command shares: the --database option, consoles, errors, progress, JSON;
the options that mean the same in every command (`Limit`, `Owner`, `CustomerRef`,
`CustomerArg`, `By`, `day`, `moment`, `one_of`); records named on the command line and
found on the desk (`Found`, `record`); a command that works on the desk in one
transaction (`on_desk`); and a list made of its filter, shown as the API's JSON or as a
table (`lists`, `Listing`, `listing`).

Commands live beside their concept (`keepwell/<concept>/cli.py`) and only translate:
parse, call one service function, report. `keepwell/cli.py` gathers them. Nothing here
imports SQLAlchemy, pydantic or a service at import time: `keepwell --help` stays light,
and what a command needs loads when it runs.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
import json
import sys
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

import typer
from rich.console import Console, RenderableType
from rich.json import JSON
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table
from rich.text import Text

from keepwell import clock, config
from keepwell.errors import ImportRejected, KeepwellError

if TYPE_CHECKING:  # the database layer loads when a command first opens the database
    from pydantic import BaseModel
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session

    from keepwell.accounts.models import TeamMember
    from keepwell.customers.models import Customer
else:  # what a Found parameter is, to the command; the command line reads its text
    TeamMember = Customer = object

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
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print JSON (a record as the API answers it).")
]

# --- options that mean the same in every command ---------------------------------------

MAX_LIMIT = 500  # the services' own bound on a list


def up_to(most: int) -> Any:
    """The --limit option of a list: 1 to `most` rows."""
    return typer.Option("--limit", min=1, max=most, metavar="N", help="At most this many.")


Limit = Annotated[int, up_to(MAX_LIMIT)]


# --- records named on the command line, found on the desk --------------------------------


@dataclass(frozen=True)
class Found:
    """A parameter given as text that names a record: `on_desk` finds it in the command's
    session (`find(session, text)`; None stays None) and hands the command what it found.
    `text` is the type the command line reads. Like the API's dependencies
    (`customer_by_id`), it is written once here, not in every command."""

    find: Callable[[Session, Any], Any]
    text: Any


def _customer(session: Session, ref: str) -> Customer:
    from keepwell.customers.service import find_customer

    return find_customer(session, ref)


def _customer_id(session: Session, ref: str) -> int:
    return _customer(session, ref).id


def _member(session: Session, email: str) -> TeamMember:
    from keepwell.accounts.service import find_member

    return find_member(session, email)


def _member_id(session: Session, email: str) -> int:
    return _member(session, email).id


def record(target: str, text: Any = int) -> Found:
    """An argument that names a record (by its id, unless `text` says otherwise), found by
    `target` ("module:function", e.g. "keepwell.promises.service:get_promise", imported
    when the command runs): `Annotated[Promise, typer.Argument(…), record(…)]`."""

    def find(session: Session, key: Any) -> Any:
        module, _, name = target.partition(":")
        return getattr(importlib.import_module(module), name)(session, key)

    return Found(find, text)


# The records themselves, for options and arguments a command names itself:
# `Annotated[Member, typer.Option("--owner", metavar="EMAIL", help=…)]`.
TheMember = Annotated[TeamMember, Found(_member, str)]  # by e-mail
Member = Annotated[TeamMember | None, Found(_member, str | None)]
MemberId = Annotated[int | None, Found(_member_id, str | None)]
TheCustomer = Annotated[Customer, Found(_customer, str)]  # by #id, external id or e-mail
CustomerOrNone = Annotated[Customer | None, Found(_customer, str | None)]
CustomerId = Annotated[int | None, Found(_customer_id, str | None)]

_CUSTOMER = typer.Argument(
    metavar="CUSTOMER", help="The customer: #id, external id or e-mail.", show_default=False
)
CustomerArg = Annotated[TheCustomer, _CUSTOMER]
CustomerText = Annotated[str, _CUSTOMER]  # for a command that finds it itself
CustomerRef = Annotated[
    CustomerId,
    typer.Option(
        "--customer", metavar="REF", help="Only this customer's (#id, external id or e-mail)."
    ),
]
Owner = Annotated[
    MemberId, typer.Option("--owner", metavar="EMAIL", help="Only this team member's (e-mail).")
]
By = Annotated[
    Member,
    typer.Option(
        "--by",
        metavar="EMAIL",
        help="E-mail of the team member acting (default: whoever is responsible).",
    ),
]

DAY_HELP = "YYYY-MM-DD, today, tomorrow, or +N for N days from today"
DAY_SHORT = "YYYY-MM-DD, today, +N days"


def parse_day(text: str) -> date:
    """A day given on the command line: YYYY-MM-DD, today, tomorrow or +N days."""
    value = text.strip().lower()
    today = clock.today()
    if value == "today":
        return today
    if value == "tomorrow":
        return today + timedelta(days=1)
    if value.startswith("+") and value[1:].isdigit():
        days = int(value[1:])
        if days > 3660:
            raise typer.BadParameter(f"{text!r} is more than ten years ahead")
        return today + timedelta(days=days)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date; use {DAY_HELP}") from None


def parse_moment(text: str, at: time = time(0, 0)) -> datetime:
    """An ISO date (at `at` UTC) or an ISO time (UTC unless it says otherwise)."""
    value = text.strip()
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), at, UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date (YYYY-MM-DD) or an ISO time (YYYY-MM-DDTHH:MM)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def day(*names: str, help: str) -> Any:
    """An option that reads a day (`parse_day`; its help says how to write one):
    `due: Annotated[date | None, day("--due", help="Due on")] = None`."""
    return typer.Option(*names, parser=parse_day, metavar="DATE", help=f"{help} ({DAY_SHORT})")


def moment(*names: str, help: str, at: time = time(0, 0)) -> Any:
    """An option that reads a time, or a day meaning `at` UTC (`parse_moment`)."""
    read = functools.partial(parse_moment, at=at)
    return typer.Option(*names, parser=read, metavar="TIME", help=help)


def one_of(
    *names: str, values: Sequence[str], help: str | None = None, every: str | None = None
) -> Any:
    """An option that takes one of `values` (any case); its help names them. `every`: a
    word that means any value (the option reads it as None)."""
    allowed = [*values, every] if every else list(values)

    def read(text: str) -> str | None:
        value = text.strip().lower()
        if value not in allowed:
            raise typer.BadParameter(f"use one of {', '.join(allowed)}")
        return None if value == every else value

    return typer.Option(*names, parser=read, help=help or f"One of {', '.join(allowed)}.")


@typing.overload
def start_of(day: date) -> datetime: ...
@typing.overload
def start_of(day: None) -> None: ...
@typing.overload
def start_of(day: date | None) -> datetime | None: ...
def start_of(day: date | None) -> datetime | None:
    """The first moment (UTC) of a day."""
    return None if day is None else datetime.combine(day, time(0, 0), UTC)


def when(moment: datetime | None) -> str:
    """A time as the tables show it: UTC, to the minute."""
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


# --- names for tables -------------------------------------------------------------------


@dataclass(frozen=True)
class Names:
    """Customers' names and members' e-mails by id, for a table's columns."""

    customers: dict[int, str]
    members: dict[int, str]

    def customer(self, customer_id: int) -> str:
        return self.customers.get(customer_id) or f"#{customer_id}"

    def member(self, member_id: int | None) -> str:
        return "" if member_id is None else self.members.get(member_id, f"#{member_id}")


def names(
    session: Session, rows: Iterable[Any], customer: str = "customer_id", member: str = "member_id"
) -> Names:
    """The names of the customers and the e-mails of the members these rows name (by the
    attributes `customer` and `member`, where a row has them): two queries, however many
    rows."""
    import sqlalchemy as sa

    from keepwell.accounts.models import TeamMember
    from keepwell.customers.models import Customer

    listed = list(rows)
    customer_ids = {getattr(r, customer, None) for r in listed} - {None}
    member_ids = {getattr(r, member, None) for r in listed} - {None}
    customers = sa.select(Customer.id, Customer.name).where(Customer.id.in_(customer_ids))
    members = sa.select(TeamMember.id, TeamMember.email).where(TeamMember.id.in_(member_ids))
    return Names(
        {i: name for i, name in session.execute(customers)},
        {i: email for i, email in session.execute(members)},
    )


# --- the database ----------------------------------------------------------------------


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


# What a command shows: a line (or lines) of text, a table, JSON; None: nothing.
Shown = RenderableType | None


def show(shown: Shown) -> None:
    if isinstance(shown, str):
        say(shown)
    elif shown is not None:
        out.print(shown)


def on_desk(command: Callable[..., Shown]) -> Callable[..., None]:
    """A command that works on the desk, in one transaction.

    The command's first parameter is `session`; the command line gets the `--database`
    option in its place. Parameters that name a record (`Found`: a customer, a member, a
    promise by its id) reach the command as the record, found in the session. The
    transaction commits when the command returns (Keepwell's errors are a message and exit
    status 1, and nothing is written), and what the command returns is shown after that:
    nothing is reported that did not happen, and no database lock is held while a
    terminal or a pager reads the output.
    """
    signature = inspect.signature(command)
    first, *rest = signature.parameters.values()
    assert first.name == "session", f"{command!r} must take the session first"
    # Typer reads the parameters' types: the annotations are strings (PEP 563), so they
    # are read here in the command's module, all but the session's.
    shell = types.SimpleNamespace(__annotations__={p.name: p.annotation for p in rest})
    module = vars(sys.modules[command.__module__])
    hints = typing.get_type_hints(shell, globalns=module, include_extras=True)
    finders: dict[str, Callable[[Session, Any], Any]] = {}
    params = []
    for param in rest:
        hint = hints[param.name]
        found = [m for m in getattr(hint, "__metadata__", ()) if isinstance(m, Found)]
        if found:  # the command line reads the text; the command gets the record
            finders[param.name] = found[0].find
            others = [m for m in hint.__metadata__ if not isinstance(m, Found)]
            hint = Annotated[(found[0].text, *others)] if others else found[0].text
        params.append(param.replace(annotation=hint))
    params.append(
        inspect.Parameter(
            "database", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Database
        )
    )

    @functools.wraps(command)
    def run(database: str | None = None, **values: Any) -> None:
        with errors(), session_for(database) as session:
            for name, find in finders.items():
                if values[name] is not None:
                    values[name] = find(session, values[name])
            shown = command(session, **values)
        show(shown)

    del run.__wrapped__  # Typer reads the signature below, not the command's
    run.__signature__ = signature.replace(parameters=params, return_annotation=None)  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in params}
    return run


# --- output ----------------------------------------------------------------------------

Row = TypeVar("Row", bound="BaseModel")
# A table's column: its heading, and its cell for a row (None: empty; a time: UTC, to
# the minute; a day: ISO; a bool: yes or no; anything else as text, never as markup).
Column = tuple[str, Callable[[Row], object]]


def cell(value: object) -> Text:
    if value is None:
        return Text("")
    if isinstance(value, bool):
        return Text("yes" if value else "no")
    if isinstance(value, datetime):
        return Text(when(value))
    if isinstance(value, date):
        return Text(value.isoformat())
    return value if isinstance(value, Text) else Text(str(value))


def listing(
    rows: Sequence[Row],
    columns: Sequence[Column[Row]],
    *,
    as_json: bool,
    empty: str | None = None,
    title: str | None = None,
) -> Shown:
    """A list as a command shows it: with --json, the output models as the API answers
    with them (an array); else a table of the declared columns, or `empty` for none."""
    if as_json:
        return json_of([row.model_dump(mode="json") for row in rows])
    if not rows and empty is not None:
        return empty
    table = Table(*(heading for heading, _ in columns), title=title, title_justify="left")
    for row in rows:
        table.add_row(*(cell(value(row)) for _, value in columns))
    return table


@dataclass(frozen=True)
class Listing(Generic[Row]):
    """What a list command found: the rows (output models) and the table's columns."""

    rows: Sequence[Row]
    columns: Sequence[Column[Row]]
    empty: str | None = None  # said when there are no rows


def lists(
    filter_type: type[Any], **options: Any
) -> Callable[[Callable[..., Listing[Any]]], Callable[..., None]]:
    """A list command made of its list's filter — the one the API and the pages use.

    `options` gives each field of the filter the command line reads its option (the
    field's name → an annotated type, e.g. `member_id=clikit.Owner`); its default is the
    filter's own. `--limit` (up to 500, unless `options` says otherwise) and `--json` come
    with it. The command gets the session and the filter, which checks the values
    itself, and returns a Listing: shown as the API's JSON, or as a table. It runs
    `on_desk`.
    """
    defaults = {field.name: field.default for field in dataclasses.fields(filter_type)}
    read = dict(options)
    read.setdefault("limit", Limit)

    def decorate(command: Callable[..., Listing[Any]]) -> Callable[..., None]:
        def run(session: Session, as_json: bool = False, **values: Any) -> Shown:
            found = command(session, filter_type(**values))
            return listing(found.rows, found.columns, as_json=as_json, empty=found.empty)

        keyword = inspect.Parameter.KEYWORD_ONLY
        params = [inspect.Parameter("session", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        params += [
            inspect.Parameter(name, keyword, default=defaults[name], annotation=option)
            for name, option in read.items()
        ]
        params.append(inspect.Parameter("as_json", keyword, default=False, annotation=JsonOpt))
        run.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in params[1:]}
        for name in ("__module__", "__name__", "__qualname__", "__doc__"):
            setattr(run, name, getattr(command, name))
        return on_desk(run)

    return decorate


def record_json(record: BaseModel) -> JSON:
    """One record as the API answers with it."""
    return json_of(record.model_dump(mode="json"))


def json_of(data: Any) -> JSON:
    return JSON(json.dumps(data, default=str))


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
    out.print(json_of(data))


def say(text: str) -> None:
    out.print(text, highlight=False, markup=False)


def money(minor: int, currency: str) -> str:
    return f"{minor / 100:,.2f} {currency}".strip()
