"""`keepwell task …`."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

from keepwell import clikit, clock
from keepwell.tasks.models import STATUSES, Task
from keepwell.tasks.schemas import TaskPublic, task_views
from keepwell.tasks.service import TaskFilter

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

task_app = typer.Typer(
    help="Tasks: what to do for which customer, and why now.", no_args_is_help=True
)

TheTask = Annotated[
    Task,
    typer.Argument(metavar="ID", help="The task's id.", show_default=False),
    clikit.record("keepwell.tasks.service:get_task"),
]


@task_app.command("add")
@clikit.on_desk
def task_add(
    session: Session,
    customer: clikit.CustomerArg,
    reason: Annotated[str, typer.Argument(help="Why the task is there, in one sentence.")],
    kind: Annotated[str, typer.Option("--kind", help="What sort of task.")] = "follow_up",
    due: Annotated[date | None, clikit.day("--due", help="Due on; default: today")] = None,
    owner: Annotated[
        clikit.Member,
        typer.Option(
            "--owner", metavar="EMAIL", help="Who does it (default: the customer's owner)."
        ),
    ] = None,
    context: Annotated[
        str | None,
        typer.Option("--context", help="What to mention (default: from the customer's record)."),
    ] = None,
) -> clikit.Shown:
    """Add a task for a customer (the same reason twice stays one task)."""
    from keepwell.tasks.service import create_task, default_dedupe_key, find_task

    existing = find_task(session, customer.id, default_dedupe_key(kind, reason))
    task = create_task(
        session,
        customer,
        kind=kind,
        due_on=due or clock.today(),
        reason=reason,
        context=context,
        member=owner,
    )
    if existing is not None:
        return f"Task #{task.id} is there already for this reason ({task.status})."
    return f"Added task #{task.id}, due {task.due_on.isoformat()}."


@task_app.command("list")
@clikit.lists(
    TaskFilter,
    member_id=clikit.Owner,
    customer_id=clikit.CustomerRef,
    status=Annotated[str | None, clikit.one_of("--status", values=STATUSES, every="all")],
    kind=Annotated[str | None, typer.Option("--kind", help="Only tasks of this kind.")],
    due_on_or_before=Annotated[
        date | None, clikit.day("--due-before", help="Due on or before this day")
    ],
    include_snoozed=Annotated[
        bool, typer.Option("--snoozed", help="Include tasks snoozed past today.")
    ],
)
def task_list(session: Session, filters: TaskFilter) -> clikit.Listing[TaskPublic]:
    """List tasks, soonest due first (open ones, unless --status says otherwise).

    --json prints what GET /api/tasks answers."""
    from keepwell.tasks.service import list_tasks

    columns: list[clikit.Column[TaskPublic]] = [
        ("id", lambda t: t.id),
        ("due", lambda t: t.due_on),
        ("customer", lambda t: t.customer),
        ("kind", lambda t: t.kind),
        ("reason", lambda t: t.reason),
        ("who", lambda t: t.member),
        ("status", lambda t: _state(t.status, t.snoozed_until)),
    ]
    rows = task_views(session, list_tasks(session, filters))
    return clikit.Listing(rows, columns, empty="No tasks.")


def _state(status: str, snoozed_until: date | None) -> str:
    return f"snoozed to {snoozed_until}" if snoozed_until and status == "open" else status


@task_app.command("snooze")
@clikit.on_desk
def task_snooze(
    session: Session,
    task: TheTask,
    until: Annotated[date, clikit.day("--until", help="Hide until")],
) -> clikit.Shown:
    """Hide an open task from the lists until a later day."""
    from keepwell.tasks.service import snooze_task

    snooze_task(session, task, until=until)
    return f"Task #{task.id} snoozed until {until.isoformat()}."


@task_app.command("reassign")
@clikit.on_desk
def task_reassign(
    session: Session,
    task: TheTask,
    member: Annotated[
        clikit.TheMember,
        typer.Argument(metavar="EMAIL", help="The member who takes it over (e-mail)."),
    ],
) -> clikit.Shown:
    """Give an open task to another team member."""
    from keepwell.tasks.service import reassign_task

    reassign_task(session, task, member)
    return f"Task #{task.id} is now {member.email}'s."


@task_app.command("done")
@clikit.on_desk
def task_done(
    session: Session,
    task: TheTask,
    outcome: Annotated[str, typer.Option("--outcome", help="What came of it.")] = "",
    channel: Annotated[
        str,
        typer.Option(
            "--channel",
            help="How you reached the customer (call, email, meeting, chat, note, social, "
            "letter, gift), logged as an interaction; none logs nothing.",
        ),
    ] = "call",
) -> clikit.Shown:
    """Mark a task done; the interaction is logged and the next check-in moves."""
    from keepwell.tasks.completion import complete_task

    logged = None if channel.strip().lower() == "none" else channel
    complete_task(session, task, outcome=outcome, channel=logged)
    return f"Task #{task.id} done{f', {logged} logged' if logged else ''}."


@task_app.command("cancel")
@clikit.on_desk
def task_cancel(
    session: Session,
    task: TheTask,
    reason: Annotated[str, typer.Option("--reason", help="Why it is not needed.")] = "",
) -> clikit.Shown:
    """Close a task without doing it."""
    from keepwell.tasks.service import cancel_task

    cancel_task(session, task, reason=reason)
    return f"Task #{task.id} cancelled."
