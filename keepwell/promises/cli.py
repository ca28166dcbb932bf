"""`keepwell promise …`."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.clikit import Database, JsonOpt, errors, out, print_json, say, session_for
from keepwell.promises.models import STATUSES, Promise

promise_app = typer.Typer(
    help="Promises made to customers: due dates, progress updates, kept or not.",
    no_args_is_help=True,
)

# A due date given as a day means the end of that working day.
DUE_TIME = time(17, 0)

By = Annotated[
    str | None,
    typer.Option("--by", help="E-mail of the team member acting (default: the promise's owner)."),
]


def parse_moment(text: str, option: str, *, day_time: time = DUE_TIME) -> datetime:
    """An ISO date (at `day_time` UTC) or an ISO timestamp (UTC unless it says otherwise)."""
    value = text.strip()
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), day_time, UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date (YYYY-MM-DD) or an ISO time (YYYY-MM-DDTHH:MM)",
            param_hint=option,
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date (YYYY-MM-DD)", param_hint=option
        ) from None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), UTC)


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def promise_json(session: Session, promise: Promise) -> dict[str, Any]:
    from keepwell.accounts.models import TeamMember
    from keepwell.customers.models import Customer

    customer = session.get(Customer, promise.customer_id)
    member = session.get(TeamMember, promise.member_id) if promise.member_id else None
    return {
        "id": promise.id,
        "customer_id": promise.customer_id,
        "customer": customer.name if customer is not None else "",
        "member": member.email if member is not None else None,
        "what": promise.what,
        "made_at": promise.made_at.isoformat(),
        "due_at": promise.due_at.isoformat(),
        "original_due_at": promise.original_due_at.isoformat(),
        "status": promise.status,
        "completed_at": promise.completed_at.isoformat() if promise.completed_at else None,
        "outcome": promise.outcome,
        "slips": promise.slips,
    }


@promise_app.command("add")
def promise_add(
    customer: Annotated[str, typer.Argument(help="The customer: #id, external id or e-mail.")],
    what: Annotated[str, typer.Argument(help="What was promised, in the customer's words.")],
    due: Annotated[
        str, typer.Option("--due", help="When it is due: YYYY-MM-DD (17:00 UTC) or ISO time.")
    ],
    by: Annotated[
        str | None,
        typer.Option("--by", help="E-mail of who made the promise (default: the owner)."),
    ] = None,
    database: Database = None,
) -> None:
    """Record a promise made to a customer, with its due date."""
    from keepwell.accounts.service import find_member
    from keepwell.customers.service import find_customer
    from keepwell.promises.service import make_promise

    due_at = parse_moment(due, "--due")
    with errors(), session_for(database) as session:
        found = find_customer(session, customer)
        member = find_member(session, by) if by else None
        promise = make_promise(session, found, what=what, due_at=due_at, member=member)
        say(f"Promise #{promise.id} to {found.name or f'#{found.id}'}: due {_when(due_at)} UTC.")


@promise_app.command("update")
def promise_update(
    promise_id: Annotated[int, typer.Argument(metavar="ID", help="The promise's id.")],
    note: Annotated[str, typer.Argument(help="What the customer was told.")],
    due: Annotated[
        str | None, typer.Option("--due", help="A new due date (a later one is a slip).")
    ] = None,
    channel: Annotated[str, typer.Option("--channel", help="How they were told.")] = "email",
    by: By = None,
    database: Database = None,
) -> None:
    """Tell the customer how an open promise stands (logged as a touch); --due moves it."""
    from keepwell.accounts.service import find_member
    from keepwell.promises.service import get_promise, progress_update

    new_due = parse_moment(due, "--due") if due is not None else None
    with errors(), session_for(database) as session:
        promise = get_promise(session, promise_id)
        member = find_member(session, by) if by else None
        update = progress_update(
            session, promise, note=note, new_due_at=new_due, channel=channel, member=member
        )
        moved = f"; now due {_when(update.new_due_at)} UTC" if update.new_due_at else ""
        slips = f" (slipped {promise.slips} {'time' if promise.slips == 1 else 'times'})"
        say(f"Updated promise #{promise.id}{moved}{slips if promise.slips else ''}.")


@promise_app.command("keep")
def promise_keep(
    promise_id: Annotated[int, typer.Argument(metavar="ID", help="The promise's id.")],
    outcome: Annotated[str, typer.Option("--outcome", help="What was done.")] = "",
    at: Annotated[str | None, typer.Option("--at", help="When it was kept (default: now).")] = None,
    database: Database = None,
) -> None:
    """Mark a promise kept (kept late when after its due date)."""
    from keepwell.promises.service import complete_promise, get_promise

    when = parse_moment(at, "--at") if at is not None else None
    with errors(), session_for(database) as session:
        promise = complete_promise(
            session, get_promise(session, promise_id), outcome=outcome, at=when
        )
        say(f"Promise #{promise.id} {promise.status.replace('_', ' ')}.")


@promise_app.command("break")
def promise_break(
    promise_id: Annotated[int, typer.Argument(metavar="ID", help="The promise's id.")],
    outcome: Annotated[
        str, typer.Option("--outcome", help="What happened, and what the customer was told.")
    ],
    database: Database = None,
) -> None:
    """Mark a promise broken: it will not be kept."""
    from keepwell.promises.service import break_promise, get_promise

    with errors(), session_for(database) as session:
        promise = break_promise(session, get_promise(session, promise_id), outcome=outcome)
        say(f"Promise #{promise.id} broken.")


@promise_app.command("cancel")
def promise_cancel(
    promise_id: Annotated[int, typer.Argument(metavar="ID", help="The promise's id.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it no longer applies.")] = "",
    database: Database = None,
) -> None:
    """Cancel a promise that no longer applies (it leaves the kept rate)."""
    from keepwell.promises.service import cancel_promise, get_promise

    with errors(), session_for(database) as session:
        promise = cancel_promise(session, get_promise(session, promise_id), reason=reason)
        say(f"Promise #{promise.id} cancelled.")


@promise_app.command("list")
def promise_list(
    status: Annotated[
        str | None, typer.Option("--status", help=f"One of {', '.join(STATUSES)}.")
    ] = None,
    owner: Annotated[
        str | None, typer.Option("--owner", help="E-mail of the member who must keep them.")
    ] = None,
    customer: Annotated[
        str | None, typer.Option("--customer", help="Only this customer's (#id, id, e-mail).")
    ] = None,
    due_before: Annotated[
        str | None, typer.Option("--due-before", help="Due before this day (YYYY-MM-DD).")
    ] = None,
    due_after: Annotated[
        str | None, typer.Option("--due-after", help="Due on this day (YYYY-MM-DD) or later.")
    ] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only open promises past their due time.")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", help="At most this many (1-500).")] = 50,
    database: Database = None,
    as_json: JsonOpt = False,
) -> None:
    """List promises, soonest due first."""
    from keepwell.accounts.service import find_member
    from keepwell.customers.service import find_customer
    from keepwell.promises.service import PromiseFilter, list_promises

    if status is not None and status not in STATUSES:
        raise typer.BadParameter(f"use one of {', '.join(STATUSES)}", param_hint="--status")
    if not 1 <= limit <= 500:
        raise typer.BadParameter("give 1 to 500", param_hint="--limit")
    before = _start_of(parse_day(due_before, "--due-before")) if due_before else None
    after = _start_of(parse_day(due_after, "--due-after")) if due_after else None
    with errors(), session_for(database) as session:
        filters = PromiseFilter(
            status=status,
            member_id=find_member(session, owner).id if owner else None,
            customer_id=find_customer(session, customer).id if customer else None,
            due_before=before,
            due_after=after,
            overdue=overdue,
            limit=limit,
        )
        rows = [promise_json(session, p) for p in list_promises(session, filters)]
    if as_json:
        print_json(rows)
        return
    if not rows:
        say("No promises.")
        return
    now = clock.now()
    table = Table("id", "customer", "what", "due (UTC)", "status", "slips", "owner")
    for r in rows:
        due_at = datetime.fromisoformat(r["due_at"])
        state = r["status"]
        if state == "open" and due_at < now:
            state = "open, OVERDUE"
        table.add_row(
            str(r["id"]),
            escape(r["customer"] or f"#{r['customer_id']}"),
            escape(r["what"]),
            _when(due_at),
            state,
            str(r["slips"]),
            r["member"] or "",
        )
    out.print(table)


@promise_app.command("rate")
def promise_rate(
    start: Annotated[
        str | None, typer.Option("--from", help="First day (default: this month's first).")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Last day, included (default: this month's last).")
    ] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Only this member (e-mail).")] = None,
    database: Database = None,
    as_json: JsonOpt = False,
) -> None:
    """The promise-kept rate of promises due in a period, per member and for the team."""
    from dataclasses import asdict

    from keepwell.accounts.service import find_member
    from keepwell.promises.service import kept_rate, kept_rate_by_member

    today = clock.today()
    first = parse_day(start, "--from") if start else today.replace(day=1)
    if end:
        last = parse_day(end, "--to")
    else:
        last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    if last < first:
        raise typer.BadParameter("the last day comes before the first", param_hint="--to")
    window = (_start_of(first), _start_of(last + timedelta(days=1)))
    with errors(), session_for(database) as session:
        if owner:
            member = find_member(session, owner)
            rate = kept_rate(session, start=window[0], end=window[1], member_id=member.id)
            members = [
                {"member_id": member.id, "email": member.email, "name": member.name, **asdict(rate)}
            ]
        else:
            members = [
                {"member_id": m.member_id, "email": m.email, "name": m.name, **asdict(m.kept)}
                for m in kept_rate_by_member(session, window[0], window[1])
            ]
        team = asdict(kept_rate(session, start=window[0], end=window[1]))
    for row in [*members, team]:
        row.pop("start")
        row.pop("end")
    result = {"from": first.isoformat(), "to": last.isoformat(), "members": members, "team": team}
    if as_json:
        print_json(result)
        return
    table = Table(
        "member",
        "due",
        "on time",
        "late",
        "broken",
        "open",
        "slipped",
        "slips",
        "kept rate",
        title=f"Promises due {first.isoformat()} to {last.isoformat()}",
    )
    labelled = [(escape(m["name"] or m["email"] or "(nobody)"), m) for m in members]
    for label, row in [*labelled, ("team", team)]:
        table.add_row(
            label,
            str(row["due"]),
            str(row["kept_on_time"]),
            str(row["kept_late"]),
            str(row["broken"]),
            str(row["still_open"]),
            str(row["slipped"]),
            str(row["slips"]),
            "–" if row["rate"] is None else f"{row['rate']:.0%}",
        )
    out.print(table)
