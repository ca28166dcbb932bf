"""`keepwell import …` and `keepwell demo`."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from keepwell import clikit, clock, config, db

import_app = typer.Typer(help="Import customers or orders from a CSV export.", no_args_is_help=True)


def _parse_map(pairs: list[str] | None) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs or []:
        field, sep, column = pair.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise typer.BadParameter(f"{pair!r}: write --map FIELD=COLUMN", param_hint="--map")
        mapping[field.strip()] = column.strip()
    return mapping


MapOpt = Annotated[
    list[str] | None,
    typer.Option("--map", help="Read FIELD from COLUMN, e.g. --map amount='Gross Sales'."),
]
DateFormatOpt = Annotated[
    str | None,
    typer.Option("--date-format", help="strptime format of non-ISO dates, e.g. %d/%m/%Y."),
]
EncodingOpt = Annotated[
    str | None,
    typer.Option("--encoding", help="Text encoding (default: detected; UTF-8 or UTF-16)."),
]
SkipOpt = Annotated[
    Path | None,
    typer.Option("--skip-invalid", help="Import the good rows; write the bad ones to this CSV."),
]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Check the file; write nothing.")]
AllowErasedOpt = Annotated[
    bool,
    typer.Option(
        "--allow-erased", help="Import customers who were erased on request, as new customers."
    ),
]


def _report_import(summary: Any, as_json: bool) -> None:
    data = summary.to_dict()
    if as_json:
        clikit.print_json(data)
        return
    verb = "would be" if summary.dry_run else ""
    kind = summary.kind
    parts = [
        f"{summary.added:,} added",
        f"{summary.updated:,} updated",
        f"{summary.unchanged:,} unchanged",
        f"{summary.rejected:,} rejected",
    ]
    prefix = f"{kind} ({verb}): " if verb else f"{kind}: "
    clikit.out.print(prefix + ", ".join(parts), highlight=False)
    if kind == "orders":
        clikit.out.print(f"customers: {summary.customers_added:,} added", highlight=False)
    if summary.rejects_file:
        clikit.out.print(f"bad rows written to {summary.rejects_file}", highlight=False)
    if summary.ignored_columns:
        clikit.out.print("ignored columns: " + ", ".join(summary.ignored_columns), highlight=False)
    if summary.dry_run:
        clikit.out.print("dry run: nothing was written", highlight=False)


def _import(run: Any, file: Path, database: str | None, as_json: bool, **options: Any) -> None:
    """Import `file` with `run` (a careful or a customers import), reporting as asked."""
    from keepwell.ingest.importer import ImportOptions

    with clikit.errors(), clikit.engine_in_use(database) as engine:
        with clikit.progress(f"importing {file.name}", not as_json) as report:
            summary = run(engine, file, ImportOptions(**options), report)
        _report_import(summary, as_json)


@import_app.command("orders")
def import_orders_cmd(
    file: Annotated[Path, typer.Argument(help="CSV file of orders.")],
    database: clikit.Database = None,
    mapping: MapOpt = None,
    date_format: DateFormatOpt = None,
    encoding: EncodingOpt = None,
    currency: Annotated[
        str, typer.Option("--currency", help="Currency of amounts without one.")
    ] = "USD",
    no_create_customers: Annotated[
        bool,
        typer.Option("--no-create-customers", help="Reject orders of unknown customers."),
    ] = False,
    skip_invalid: SkipOpt = None,
    dry_run: DryRunOpt = False,
    allow_erased: AllowErasedOpt = False,
    as_json: clikit.JsonOpt = False,
) -> None:
    """Import orders (one row an order); unknown customers are created."""
    from keepwell.ingest.orders_import import import_orders
    from keepwell.ingest.parsing import CellError, parse_currency

    try:
        code = parse_currency(currency)
    except CellError as exc:
        raise typer.BadParameter(str(exc), param_hint="--currency") from None
    _import(
        import_orders, file, database, as_json, mapping=_parse_map(mapping),
        date_format=date_format, encoding=encoding, skip_invalid=skip_invalid, dry_run=dry_run,
        allow_erased=allow_erased, currency=code, create_customers=not no_create_customers,
    )  # fmt: skip


@import_app.command("customers")
def import_customers_cmd(
    file: Annotated[Path, typer.Argument(help="CSV file of customers.")],
    database: clikit.Database = None,
    mapping: MapOpt = None,
    date_format: DateFormatOpt = None,
    encoding: EncodingOpt = None,
    skip_invalid: SkipOpt = None,
    dry_run: DryRunOpt = False,
    allow_erased: AllowErasedOpt = False,
    as_json: clikit.JsonOpt = False,
) -> None:
    """Import customers (one row a customer), matched by id or e-mail."""
    from keepwell.ingest.customers_import import import_customers

    _import(
        import_customers, file, database, as_json, mapping=_parse_map(mapping),
        date_format=date_format, encoding=encoding, skip_invalid=skip_invalid, dry_run=dry_run,
        allow_erased=allow_erased,
    )  # fmt: skip


def demo(
    customers: Annotated[
        int, typer.Option("--customers", min=1, max=2_000_000, help="How many customers.")
    ] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same world).")] = 42,
    database: Annotated[
        str | None,
        typer.Option("--database", "-d", help="Where to build it (default: ./keepwell-demo.db)."),
    ] = None,
    fresh: Annotated[
        bool, typer.Option("--fresh/--keep", help="Start over if the demo database exists.")
    ] = True,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the app after building.")
    ] = True,
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to serve on.")] = 8000,
    as_json: clikit.JsonOpt = False,
) -> None:
    """Build a realistic small business to explore, show the desk, then serve it on
    127.0.0.1."""
    from keepwell.accounts.service import demo_admin
    from keepwell.customers.overview import overview
    from keepwell.ingest.demo import build_world
    from keepwell.playbooks.engine import run as run_playbooks
    from keepwell.scoring.service import score

    with clikit.errors():
        url = config.database_url(database or "keepwell-demo.db")
        if fresh and url.startswith("sqlite:///"):
            path = Path(url.removeprefix("sqlite:///"))
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        engine = db.make_engine(url)
        db.upgrade(engine)
        with clikit.progress("building the demo", not as_json) as report:
            summary = build_world(
                engine,
                customers=customers,
                seed=seed,
                progress=report,
            )
        score(engine, clock.today())  # the customer pages show scores; the agenda ranks by risk
        with db.transaction(engine) as session:
            # today again, now that there are scores: the save calls for customers slipping away
            run_playbooks(session, through=clock.today(), via="demo")
        with db.transaction(engine) as session:
            desk = overview(session)
            admin, password = demo_admin(session)  # someone to sign in as
            sign_in = {"email": admin.email, "password": password}
        if as_json:
            clikit.out.print_json(
                json.dumps(
                    {"world": asdict(summary), "desk": asdict(desk), "admin": sign_in},
                    default=str,
                )
            )
        else:
            _print_overview(desk, db.safe_url(engine))
            at = f" at http://127.0.0.1:{port}/" if serve else ""
            line = f"Sign in as {admin.email} with the password {password}{at}"
            clikit.out.print(Text(line, style="bold"), highlight=False)
    if serve:
        from keepwell.accounts.tokens import create_token
        from keepwell.web.cli import serve as run_server

        with db.transaction(engine) as session:
            _, token = create_token(session, admin, "demo")
        clikit.say(f"API token: {token}")
        clikit.say(
            f"Try: curl -H 'Authorization: Bearer {token}' http://127.0.0.1:{port}/api/agenda"
        )
        engine.dispose()
        run_server(host="127.0.0.1", port=port, database=url)


def _print_overview(desk: Any, where: str) -> None:
    clikit.out.print(f"[bold]Keepwell demo[/bold] — {where}", highlight=False)
    clikit.out.print(
        f"{desk.customers:,} customers, {desk.orders:,} orders, "
        f"{clikit.money(desk.revenue_minor, desk.currency)} revenue, {desk.members} team members; "
        f"{desk.active_customers:,} customers bought in the last 180 days.",
        highlight=False,
    )
    quiet = Table(
        title="Valuable customers gone quiet (no order in 180+ days)", title_justify="left"
    )
    for column in ("customer", "owner", "last order", "orders", "revenue"):
        quiet.add_column(column)
    for q in desk.quiet:
        quiet.add_row(
            q.name,
            q.owner,
            q.last_order.date().isoformat(),
            str(q.orders),
            clikit.money(q.revenue_minor, q.currency),
        )
    clikit.out.print(quiet)
    birthdays = Table(title="Birthdays in the next 14 days", title_justify="left")
    for column in ("date", "when", "customer", "owner", "cultural notes"):
        birthdays.add_column(column)
    today = clock.today()
    for b in desk.birthdays:
        days = (b.on - today).days
        when = {0: "today", 1: "tomorrow"}.get(days, f"in {days} days")
        birthdays.add_row(f"{b.on:%a %d %b}", when, b.name, b.owner, b.cultural_notes or "")
    clikit.out.print(birthdays)
