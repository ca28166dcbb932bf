"""`keepwell agenda`: what to do today, for one person or the whole team."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from keepwell import clikit, clock

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

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


@clikit.on_desk
def agenda(
    session: Session,
    owner: Annotated[
        clikit.Member,
        typer.Option("--owner", metavar="EMAIL", help="The member's e-mail (default: whole team)."),
    ] = None,
    when: Annotated[date | None, clikit.day("--date", help="The day; default: today")] = None,
    days_ahead: Annotated[
        int, typer.Option("--days-ahead", min=0, max=60, help="Special dates this far ahead.")
    ] = 7,
    as_json: clikit.JsonOpt = False,
) -> clikit.Shown:
    """Today's agenda: overdue and due promises, cases, tasks, quiet customers, special dates."""
    from keepwell.agenda.schemas import AgendaPublic
    from keepwell.agenda.service import agenda_for, team_agenda

    on = when or clock.today()
    if owner is not None:
        agendas = [agenda_for(session, owner, on, dates_ahead=days_ahead)]
    else:
        agendas = team_agenda(session, on, dates_ahead=days_ahead)
    if not as_json:
        return agenda_view(agendas, on)
    days = [AgendaPublic.model_validate(a.to_dict()).model_dump(mode="json") for a in agendas]
    return clikit.json_of(days[0] if owner else {"day": on.isoformat(), "members": days})


def print_agendas(agendas: list[Agenda], when: date) -> None:
    clikit.out.print(agenda_view(agendas, when))


def agenda_view(agendas: list[Agenda], when: date) -> RenderableType:
    """Each member's day as tables, one per kind of item."""
    shown: list[RenderableType] = []
    for one in agendas:
        counts = one.counts()
        shown.append(Text(f"\n{one.member} — {when:%A %d %B %Y}: {sum(counts.values())} items"))
        for group, label in LABELS.items():
            items = [item for item in one.items if item.group == group]
            if not items:
                continue
            table = Table(title=f"{label} ({len(items)})", title_justify="left", show_lines=True)
            table.add_column("customer", max_width=22)
            table.add_column("why now", ratio=3)
            table.add_column("to be personal", ratio=2)
            for item in items:
                table.add_row(Text(item.customer), Text(item.reason), Text(item.context))
            shown.append(table)
        if one.more_quiet:
            shown.append(Text(f"… and {one.more_quiet:,} more customers gone quiet"))
        if one.more_reviews:
            shown.append(Text(f"… and {one.more_reviews:,} more account reviews due"))
        if one.more_dates:
            plus = "+" if one.more_dates_capped else ""
            shown.append(
                Text(f"… and {one.more_dates:,}{plus} more special dates in the coming days")
            )
    return Group(*shown)
