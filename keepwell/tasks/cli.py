"""`keepwell task …`."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from keepwell import clock
from keepwell.clikit import Database, JsonOpt, errors, out, print_json, say, session_for
from keepwell.customers.dates_cli import DAY_HELP, parse_day

task_app = typer.Typer(
    help="Tasks: what to do for which customer, and why now.", no_args_is_help=True
)

TaskId = Annotated[int, typer.Argument(metavar="ID", help="The task's id.", show_default=False)]


@task_app.command("add")
def task_add(
    customer_ref: Annotated[
        str, typer.Argument(metavar="CUSTOMER", help="The customer: #id, external id or e-mail.")
    ],
    reason: Annotated[str, typer.Argument(help="Why the task is there, in one sentence.")],
    kind: Annotated[str, typer.Option("--kind", help="What sort of task.")] = "follow_up",
    due: Annotated[
        date | None,
        typer.Option("--due", parser=parse_day, metavar="DATE", help=f"Due on ({DAY_HELP})."),
    ] = None,
    owner: Annotated[
        str | None,
        typer.Option("--owner", help="Who does it (e-mail; default: the customer's owner)."),
    ] = None,
    context: Annotated[
        str | None,
        typer.Option("--context", help="What to mention (default: from the customer's record)."),
    ] = None,
    database: Database = None,
) -> None:
    """Add a task for a customer (the same reason twice stays one task)."""
    from keepwell.accounts.service import find_member
    from keepwell.customers.service import find_customer
    from keepwell.tasks.service import create_task, default_dedupe_key, find_task

    with errors(), session_for(database) as session:
        customer = find_customer(session, customer_ref)
        member = find_member(session, owner) if owner else None
        existing = find_task(session, customer.id, default_dedupe_key(kind, reason))
        task = create_task(
            session,
            customer,
            kind=kind,
            due_on=due or clock.today(),
            reason=reason,
            context=context,
            member=member,
        )
        if existing is not None:
            say(f"Task #{task.id} is there already for this reason ({task.status}).")
        else:
            say(f"Added task #{task.id}, due {task.due_on.isoformat()}.")


@task_app.command("list")
def task_list(
    owner: Annotated[
        str | None, typer.Option("--owner", help="Only this member's tasks (e-mail).")
    ] = None,
    customer_ref: Annotated[
        str | None,
        typer.Option("--customer", metavar="REF", help="Only this customer's (#id, id, e-mail)."),
    ] = None,
    status: Annotated[str, typer.Option("--status", help="open, done, cancelled or all.")] = "open",
    kind: Annotated[str | None, typer.Option("--kind", help="Only tasks of this kind.")] = None,
    due_before: Annotated[
        date | None,
        typer.Option(
            "--due-before", parser=parse_day, metavar="DATE", help="Due on or before this day."
        ),
    ] = None,
    snoozed: Annotated[
        bool, typer.Option("--snoozed", help="Include tasks snoozed past today.")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", help="At most this many (up to 500).")] = 50,
    database: Database = None,
    as_json: JsonOpt = False,
) -> None:
    """List tasks, soonest due first (open ones, unless --status says otherwise)."""
    from keepwell.accounts.service import find_member
    from keepwell.customers.service import find_customer
    from keepwell.tasks.service import TaskFilter, describe, list_tasks

    with errors(), session_for(database) as session:
        filters = TaskFilter(
            status=None if status == "all" else status,
            member_id=find_member(session, owner).id if owner else None,
            customer_id=find_customer(session, customer_ref).id if customer_ref else None,
            kind=kind,
            due_on_or_before=due_before,
            include_snoozed=snoozed,
            limit=limit,
        )
        rows = describe(session, list_tasks(session, filters))
    if as_json:
        print_json(rows)
        return
    if not rows:
        say("No tasks.")
        return
    table = Table("id", "due", "customer", "kind", "reason", "who", "status")
    for r in rows:
        state = r["status"]
        if r["snoozed_until"] and state == "open":
            state = f"snoozed to {r['snoozed_until']}"
        table.add_row(
            str(r["id"]),
            r["due_on"],
            r["customer"],
            r["kind"],
            r["reason"],
            r["member"] or "",
            state,
        )
    out.print(table)


@task_app.command("snooze")
def task_snooze(
    task_id: TaskId,
    until: Annotated[
        date,
        typer.Option("--until", parser=parse_day, metavar="DATE", help=f"Hide until ({DAY_HELP})."),
    ],
    database: Database = None,
) -> None:
    """Hide an open task from the lists until a later day."""
    from keepwell.tasks.service import get_task, snooze_task

    with errors(), session_for(database) as session:
        task = snooze_task(session, get_task(session, task_id), until=until)
        say(f"Task #{task.id} snoozed until {until.isoformat()}.")


@task_app.command("reassign")
def task_reassign(
    task_id: TaskId,
    email: Annotated[str, typer.Argument(help="The member who takes it over (e-mail).")],
    database: Database = None,
) -> None:
    """Give an open task to another team member."""
    from keepwell.accounts.service import find_member
    from keepwell.tasks.service import get_task, reassign_task

    with errors(), session_for(database) as session:
        task = get_task(session, task_id)
        member = find_member(session, email)
        reassign_task(session, task, member)
        say(f"Task #{task.id} is now {member.email}'s.")


@task_app.command("done")
def task_done(
    task_id: TaskId,
    outcome: Annotated[str, typer.Option("--outcome", help="What came of it.")] = "",
    channel: Annotated[
        str,
        typer.Option(
            "--channel",
            help="How you reached the customer (call, email, meeting, chat, note, social, "
            "letter, gift), logged as an interaction; none logs nothing.",
        ),
    ] = "call",
    database: Database = None,
) -> None:
    """Mark a task done; the interaction is logged and the next check-in moves."""
    from keepwell.tasks.completion import complete_task
    from keepwell.tasks.service import get_task

    with errors(), session_for(database) as session:
        task = get_task(session, task_id)
        logged = None if channel.strip().lower() == "none" else channel
        complete_task(session, task, outcome=outcome, channel=logged)
        said = f", {logged} logged" if logged else ""
        say(f"Task #{task.id} done{said}.")


@task_app.command("cancel")
def task_cancel(
    task_id: TaskId,
    reason: Annotated[str, typer.Option("--reason", help="Why it is not needed.")] = "",
    database: Database = None,
) -> None:
    """Close a task without doing it."""
    from keepwell.tasks.service import cancel_task, get_task

    with errors(), session_for(database) as session:
        task = cancel_task(session, get_task(session, task_id), reason=reason)
        say(f"Task #{task.id} cancelled.")
