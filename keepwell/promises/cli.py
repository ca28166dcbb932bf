"""`keepwell promise …`."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from keepwell import clikit, clock
from keepwell.promises.models import STATUSES, Promise
from keepwell.promises.schemas import PromisePublic
from keepwell.promises.service import PromiseFilter

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

promise_app = typer.Typer(
    help="Promises made to customers: due dates, progress updates, kept or not.",
    no_args_is_help=True,
)

# A due date given as a day means the end of that working day.
DUE_TIME = time(17, 0)

ThePromise = Annotated[
    Promise,
    typer.Argument(metavar="ID", help="The promise's id."),
    clikit.record("keepwell.promises.service:get_promise"),
]


@promise_app.command("add")
@clikit.on_desk
def promise_add(
    session: Session,
    customer: clikit.CustomerArg,
    what: Annotated[str, typer.Argument(help="What was promised, in the customer's words.")],
    due: Annotated[
        datetime,
        clikit.moment(
            "--due", help="When it is due: YYYY-MM-DD (17:00 UTC) or ISO time.", at=DUE_TIME
        ),
    ],
    by: clikit.By = None,
) -> clikit.Shown:
    """Record a promise made to a customer, with its due date."""
    from keepwell.promises.service import make_promise

    promise = make_promise(session, customer, what=what, due_at=due, member=by)
    who = customer.name or f"#{customer.id}"
    return f"Promise #{promise.id} to {who}: due {clikit.when(due)} UTC."


@promise_app.command("update")
@clikit.on_desk
def promise_update(
    session: Session,
    promise: ThePromise,
    note: Annotated[str, typer.Argument(help="What the customer was told.")],
    due: Annotated[
        datetime | None,
        clikit.moment("--due", help="A new due date (a later one is a slip).", at=DUE_TIME),
    ] = None,
    channel: Annotated[str, typer.Option("--channel", help="How they were told.")] = "email",
    by: clikit.By = None,
) -> clikit.Shown:
    """Tell the customer how an open promise stands (logged as a touch); --due moves it."""
    from keepwell.promises.service import progress_update

    update = progress_update(
        session, promise, note=note, new_due_at=due, channel=channel, member=by
    )
    moved = f"; now due {clikit.when(update.new_due_at)} UTC" if update.new_due_at else ""
    slips = f" (slipped {promise.slips} {'time' if promise.slips == 1 else 'times'})"
    return f"Updated promise #{promise.id}{moved}{slips if promise.slips else ''}."


@promise_app.command("keep")
@clikit.on_desk
def promise_keep(
    session: Session,
    promise: ThePromise,
    outcome: Annotated[str, typer.Option("--outcome", help="What was done.")] = "",
    at: Annotated[
        datetime | None, clikit.moment("--at", help="When it was kept (default: now).", at=DUE_TIME)
    ] = None,
) -> clikit.Shown:
    """Mark a promise kept (kept late when after its due date)."""
    from keepwell.promises.service import complete_promise

    complete_promise(session, promise, outcome=outcome, at=at)
    return f"Promise #{promise.id} {promise.status.replace('_', ' ')}."


@promise_app.command("break")
@clikit.on_desk
def promise_break(
    session: Session,
    promise: ThePromise,
    outcome: Annotated[
        str, typer.Option("--outcome", help="What happened, and what the customer was told.")
    ],
) -> clikit.Shown:
    """Mark a promise broken: it will not be kept."""
    from keepwell.promises.service import break_promise

    break_promise(session, promise, outcome=outcome)
    return f"Promise #{promise.id} broken."


@promise_app.command("cancel")
@clikit.on_desk
def promise_cancel(
    session: Session,
    promise: ThePromise,
    reason: Annotated[str, typer.Option("--reason", help="Why it no longer applies.")] = "",
) -> clikit.Shown:
    """Cancel a promise that no longer applies (it leaves the kept rate)."""
    from keepwell.promises.service import cancel_promise

    cancel_promise(session, promise, reason=reason)
    return f"Promise #{promise.id} cancelled."


@promise_app.command("list")
@clikit.lists(
    PromiseFilter,
    status=Annotated[str | None, clikit.one_of("--status", values=STATUSES)],
    member_id=clikit.Owner,
    customer_id=clikit.CustomerRef,
    due_before=Annotated[
        datetime | None, clikit.moment("--due-before", help="Due before this day or time.")
    ],
    due_after=Annotated[
        datetime | None, clikit.moment("--due-after", help="Due on this day or time, or later.")
    ],
    overdue=Annotated[bool, typer.Option("--overdue", help="Only open ones past their due time.")],
)
def promise_list(session: Session, filters: PromiseFilter) -> clikit.Listing[PromisePublic]:
    """List promises, soonest due first.

    --json prints what GET /api/promises answers."""
    from keepwell.promises.service import list_promises

    rows = [PromisePublic.model_validate(p) for p in list_promises(session, filters)]
    who, now = clikit.names(session, rows), clock.now()

    def state(p: PromisePublic) -> str:
        return "open, OVERDUE" if p.status == "open" and p.due_at < now else p.status

    columns: list[clikit.Column[PromisePublic]] = [
        ("id", lambda p: p.id),
        ("customer", lambda p: who.customer(p.customer_id)),
        ("what", lambda p: p.what),
        ("due (UTC)", lambda p: p.due_at),
        ("status", state),
        ("slips", lambda p: p.slips),
        ("owner", lambda p: who.member(p.member_id)),
    ]
    return clikit.Listing(rows, columns, empty="No promises.")


@promise_app.command("rate")
@clikit.on_desk
def promise_rate(
    session: Session,
    start: Annotated[
        date | None, clikit.day("--from", help="First day; default: this month's first")
    ] = None,
    end: Annotated[
        date | None, clikit.day("--to", help="Last day, included; default: this month's last")
    ] = None,
    owner: clikit.Owner = None,
    as_json: clikit.JsonOpt = False,
) -> clikit.Shown:
    """The promise-kept rate of promises due in a period, per member and for the team."""
    from keepwell.accounts.models import TeamMember
    from keepwell.promises.service import kept_rate, kept_rate_by_member

    first = start or clock.today().replace(day=1)
    last = end or (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    if last < first:
        raise typer.BadParameter("the last day comes before the first", param_hint="--to")
    window = (clikit.start_of(first), clikit.start_of(last + timedelta(days=1)))
    member = session.get(TeamMember, owner) if owner else None
    if member is not None:
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
    if as_json:
        return clikit.json_of(
            {"from": first.isoformat(), "to": last.isoformat(), "members": members, "team": team}
        )
    table = Table(
        "member", "due", "on time", "late", "broken", "open", "slipped", "slips", "kept rate",
        title=f"Promises due {first.isoformat()} to {last.isoformat()}",
    )  # fmt: skip
    labelled = [(m["name"] or m["email"] or "(nobody)", m) for m in members]
    for label, row in [*labelled, ("team", team)]:
        counts = ("due", "kept_on_time", "kept_late", "broken", "still_open", "slipped", "slips")
        rate_text = "–" if row["rate"] is None else f"{row['rate']:.0%}"
        table.add_row(clikit.cell(label), *(str(row[k]) for k in counts), rate_text)
    return table
