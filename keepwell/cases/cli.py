"""`keepwell case …`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from keepwell import clikit
from keepwell.cases.models import ROOT_CAUSES, SEVERITIES, STATUSES, Case
from keepwell.cases.schemas import CasePublic
from keepwell.cases.service import CaseFilter

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

case_app = typer.Typer(
    help="Cases: problems customers raised, from first response to confirmed resolution.",
    no_args_is_help=True,
)

TheCase = Annotated[
    Case,
    typer.Argument(metavar="ID", help="The case's id."),
    clikit.record("keepwell.cases.service:get_case"),
]
Channel = Annotated[str, typer.Option("--channel", help="How you spoke with them.")]


@case_app.command("open")
@clikit.on_desk
def case_open(
    session: Session,
    customer: clikit.CustomerArg,
    title: Annotated[str, typer.Argument(help="The problem, in a few words.")],
    severity: Annotated[str, clikit.one_of("--severity", values=SEVERITIES)] = "normal",
    description: Annotated[
        str, typer.Option("--description", help="The problem in the customer's words.")
    ] = "",
    owner: Annotated[
        clikit.Member,
        typer.Option(
            "--owner", metavar="EMAIL", help="Who handles it (default: the customer's owner)."
        ),
    ] = None,
) -> clikit.Shown:
    """Open a case: a problem a customer raised."""
    from keepwell.cases.service import open_case

    case = open_case(
        session,
        customer,
        title=title,
        description=description,
        severity=severity,
        member=owner,
    )
    return f"Opened case #{case.id} for {customer.name or f'#{customer.id}'} ({case.severity})."


@case_app.command("respond")
@clikit.on_desk
def case_respond(
    session: Session,
    case: TheCase,
    summary: Annotated[str, typer.Argument(help="What the customer was told.")],
    channel: Channel = "email",
    by: clikit.By = None,
) -> clikit.Shown:
    """Answer the customer about a case (logged as a touch; the first sets response time)."""
    from keepwell.cases.service import respond

    respond(session, case, summary=summary, channel=channel, member=by)
    assert case.first_response_at is not None
    hours = (case.first_response_at - case.opened_at).total_seconds() / 3600
    return f"Logged the answer on case #{case.id} (first response after {hours:.1f} hours)."


@case_app.command("resolve")
@clikit.on_desk
def case_resolve(
    session: Session,
    case: TheCase,
    resolution: Annotated[str, typer.Option("--resolution", help="What was done to solve it.")],
    root_cause_category: Annotated[str, clikit.one_of("--root-cause-category", values=ROOT_CAUSES)],
    root_cause: Annotated[str, typer.Option("--root-cause", help="Why it happened.")] = "",
    prevention: Annotated[
        str, typer.Option("--prevention", help="What changed so it will not happen again.")
    ] = "",
    confirm_after: Annotated[
        int,
        typer.Option(
            "--confirm-after", min=0, max=365, help="Days until checking with the customer."
        ),
    ] = 7,
    by: Annotated[
        clikit.Member,
        typer.Option(
            "--by", metavar="EMAIL", help="Who checks back (default: the case's handler)."
        ),
    ] = None,
) -> clikit.Shown:
    """Resolve a case; a task to confirm it with the customer is created."""
    from keepwell.cases.service import resolve

    task = resolve(
        session,
        case,
        resolution=resolution,
        root_cause_category=root_cause_category,
        root_cause=root_cause,
        prevention=prevention,
        confirm_after_days=confirm_after,
        member=by,
    )
    return (
        f"Resolved case #{case.id}. Task #{task.id}, due {task.due_on.isoformat()}:\n"
        f"  {task.reason}"
    )


@case_app.command("confirm")
@clikit.on_desk
def case_confirm(
    session: Session,
    case: TheCase,
    note: Annotated[str, typer.Option("--note", help="What the customer said.")] = "",
    channel: Channel = "call",
    by: clikit.By = None,
) -> clikit.Shown:
    """Confirm with the customer that a resolved case is really solved."""
    from keepwell.cases.service import confirm

    confirm(session, case, note=note, member=by, channel=channel)
    return f"Case #{case.id} confirmed."


@case_app.command("reopen")
@clikit.on_desk
def case_reopen(
    session: Session,
    case: TheCase,
    reason: Annotated[str, typer.Option("--reason", help="Why: what the customer reported.")],
    by: clikit.By = None,
) -> clikit.Shown:
    """Reopen a resolved or confirmed case; its open confirmation task is cancelled."""
    from keepwell.cases.service import reopen

    reopen(session, case, reason=reason, member=by)
    times = "once" if case.reopened_count == 1 else f"{case.reopened_count} times"
    return f"Case #{case.id} reopened (reopened {times} in all)."


@case_app.command("list")
@clikit.lists(
    CaseFilter,
    status=Annotated[str | None, clikit.one_of("--status", values=STATUSES)],
    member_id=clikit.Owner,
    customer_id=clikit.CustomerRef,
    severity=Annotated[str | None, clikit.one_of("--severity", values=SEVERITIES)],
    waiting_for_first_response=Annotated[
        bool, typer.Option("--waiting", help="Only open cases with no answer yet, oldest first.")
    ],
)
def case_list(session: Session, filters: CaseFilter) -> clikit.Listing[CasePublic]:
    """List cases, newest first.

    --json prints what GET /api/cases answers."""
    from keepwell.cases.service import list_cases

    rows = [CasePublic.model_validate(c) for c in list_cases(session, filters)]
    who = clikit.names(session, rows)
    columns: list[clikit.Column[CasePublic]] = [
        ("id", lambda c: c.id),
        ("customer", lambda c: who.customer(c.customer_id)),
        ("title", lambda c: c.title),
        ("severity", lambda c: c.severity),
        ("status", lambda c: c.status + ("" if c.first_response_at else " (waiting)")),
        ("opened (UTC)", lambda c: c.opened_at),
        ("handler", lambda c: who.member(c.member_id)),
    ]
    return clikit.Listing(rows, columns, empty="No cases.")


@case_app.command("show")
@clikit.on_desk
def case_show(session: Session, found: TheCase, as_json: clikit.JsonOpt = False) -> clikit.Shown:
    """Show a case: its details, the conversation and its confirmation tasks.

    --json prints what GET /api/cases/ID answers."""
    from keepwell.cases.schemas import case_detail

    detail = case_detail(session, found)
    if as_json:
        return clikit.record_json(detail)
    case, who = detail.case, clikit.names(session, [detail.case])
    handler = who.member(case.member_id) or "-"
    lines = [
        f"Case #{case.id}: {case.title}",
        f"  customer   {who.customer(case.customer_id)}",
        f"  status     {case.status} ({case.severity}), handler {handler}",
    ]
    for label, moment in (
        ("opened", case.opened_at),
        ("answered", case.first_response_at),
        ("resolved", case.resolved_at),
        ("confirmed", case.confirmed_at),
        ("reopened", case.last_reopened_at),
    ):
        if moment:
            lines.append(f"  {label:<10} {clikit.when(moment)} UTC")
    if case.reopened_count:
        lines.append(f"  reopenings {case.reopened_count}")
    for label, text in (
        ("problem", case.description),
        ("resolution", case.resolution),
        ("root cause", case.root_cause),
        ("prevention", case.prevention),
        ("category", case.root_cause_category),
    ):
        if text:
            lines.append(f"  {label:<10} {text}")
    if detail.interactions:
        lines.append("Conversation:")
        lines += [
            f"  {clikit.when(t.happened_at)} {t.direction} {t.channel}: {t.summary}"
            for t in detail.interactions
        ]
    if detail.tasks:
        lines.append("Tasks:")
        lines += [f"  #{t.id} {t.status}, due {t.due_on}: {t.reason}" for t in detail.tasks]
    return "\n".join(lines)
