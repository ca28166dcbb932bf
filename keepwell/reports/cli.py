"""`keepwell report NAME`: a retention report as a table, JSON or CSV, and a chart."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from keepwell import clikit, clock, csvout


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1 else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def report(
    name: Annotated[
        str,
        typer.Argument(help="retention, cohorts, rfm, clv, funnel, promises, cases, nps or loops."),
    ],
    last: Annotated[
        date | None, clikit.day("--date", help="The report's last day; default: today")
    ] = None,
    months: Annotated[
        int, typer.Option("--months", min=1, max=120, help="Months back (retention, cohorts, …).")
    ] = 12,
    top: Annotated[
        int, typer.Option("--top", min=1, max=1000, help="Customers listed (clv).")
    ] = 20,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="Also draw the report's chart (.png or .svg).")
    ] = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
    database: clikit.Database = None,
    as_json: clikit.JsonOpt = False,
) -> None:
    """A retention report: retention, cohorts, rfm, clv, funnel, promises or cases."""
    from keepwell.analytics.charts import _check
    from keepwell.reports.service import Options, build

    when = last or clock.today()
    with clikit.errors():
        if chart is not None:
            _check(chart)
        with clikit.session_for(database) as session:
            result = build(session, name, Options(day=when, months=months, top=top))
        if chart is not None and result.draw is not None:
            result.draw(chart)
    if as_json:
        clikit.print_json(result.to_dict())
    elif as_csv:
        csvout.write(sys.stdout, result.columns, result.rows, lineterminator="\n")
    else:
        table = Table(title=result.title, title_justify="left")
        for column in result.columns:
            table.add_column(column.replace("_", " "), overflow="fold")
        for row in result.rows:
            table.add_row(*(_cell(v) for v in row))
        clikit.out.print(table)
        for note in result.notes:
            clikit.say(note)
    if chart is not None and not (as_json or as_csv):
        clikit.say(f"Chart: {chart}")
