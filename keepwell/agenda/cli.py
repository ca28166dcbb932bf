"""`keepwell agenda`: what to do today, for one person or the whole team."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from keepwell import clock
from keepwell.clikit import Database, JsonOpt, errors, out, print_json, say, session_for

if TYPE_CHECKING:
    from keepwell.agenda.service import Agenda

LABELS = {
    "promise_overdue": "Overdue promises",
    "promise_due": "Promises due today",
    "case": "Cases waiting for a response or a confirmation",
    "task": "Tasks",
    "review": "Account reviews due",
    "quiet": "Customers gone quiet",
    "special_date": "Coming up",
}


def agenda(
    owner: Annotated[
        str | None, typer.Option("--owner", help="The member's e-mail (default: whole team).")
    ] = None,
    day: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD (default today).")] = None,
    days_ahead: Annotated[
        int, typer.Option("--days-ahead", min=0, max=60, help="Special dates this far ahead.")
    ] = 7,
    database: Database = None,
    as_json: JsonOpt = False,
) -> None:
    """Today's agenda: overdue and due promises, cases, tasks, quiet customers, special dates."""
    from keepwell.accounts.service import find_member
    from keepwell.agenda.service import agenda_for, team_agenda

    try:
        when = date.fromisoformat(day) if day else clock.today()
    except ValueError:
        raise typer.BadParameter(f"{day!r} is not YYYY-MM-DD", param_hint="--date") from None
    with errors(), session_for(database) as session:
        if owner:
            agendas = [
                agenda_for(session, find_member(session, owner), when, dates_ahead=days_ahead)
            ]
        else:
            agendas = team_agenda(session, when, dates_ahead=days_ahead)
    if as_json:
        data = [a.to_dict() for a in agendas]
        print_json(data[0] if owner else {"day": when.isoformat(), "members": data})
        return
    print_agendas(agendas, when)


def print_agendas(agendas: list[Agenda], when: date) -> None:
    """Each member's day as tables, one per kind of item."""
    for one in agendas:
        counts = one.counts()
        total = sum(counts.values())
        say(f"\n{one.member} — {when:%A %d %B %Y}: {total} items")
        for group, label in LABELS.items():
            items = [item for item in one.items if item.group == group]
            if not items:
                continue
            table = Table(title=f"{label} ({len(items)})", title_justify="left", show_lines=True)
            table.add_column("customer", max_width=22)
            table.add_column("why now", ratio=3)
            table.add_column("to be personal", ratio=2)
            for item in items:
                table.add_row(item.customer, item.reason, item.context)
            out.print(table)
        if one.more_quiet:
            say(f"… and {one.more_quiet:,} more customers gone quiet")
        if one.more_reviews:
            say(f"… and {one.more_reviews:,} more account reviews due")
        if one.more_dates:
            plus = "+" if one.more_dates_capped else ""
            say(f"… and {one.more_dates:,}{plus} more special dates in the coming days")
