"""`keepwell case …`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.orm import Session

from keepwell.cases.models import ROOT_CAUSES, SEVERITIES, STATUSES, Case
from keepwell.clikit import Database, JsonOpt, errors, out, print_json, say, session_for

case_app = typer.Typer(
    help="Cases: problems customers raised, from first response to confirmed resolution.",
    no_args_is_help=True,
)

CaseId = Annotated[int, typer.Argument(metavar="ID", help="The case's id.")]
By = Annotated[
    str | None,
    typer.Option("--by", help="E-mail of the team member acting (default: the case's handler)."),
]


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _choice(value: str | None, allowed: tuple[str, ...], option: str) -> str | None:
    if value is None:
        return None
    value = value.strip().lower()
    if value not in allowed:
        raise typer.BadParameter(f"use one of {', '.join(allowed)}", param_hint=option)
    return value


def case_json(session: Session, case: Case) -> dict[str, Any]:
    from keepwell.accounts.models import TeamMember
    from keepwell.customers.models import Customer

    customer = session.get(Customer, case.customer_id)
    member = session.get(TeamMember, case.member_id) if case.member_id else None
    return {
        "id": case.id,
        "customer_id": case.customer_id,
        "customer": customer.name if customer is not None else "",
        "member": member.email if member is not None else None,
        "title": case.title,
        "description": case.description,
        "severity": case.severity,
        "status": case.status,
        "opened_at": _iso(case.opened_at),
        "first_response_at": _iso(case.first_response_at),
        "resolved_at": _iso(case.resolved_at),
        "confirmed_at": _iso(case.confirmed_at),
        "resolution": case.resolution,
        "root_cause_category": case.root_cause_category,
        "root_cause": case.root_cause,
        "prevention": case.prevention,
        "reopened_count": case.reopened_count,
        "last_reopened_at": _iso(case.last_reopened_at),
    }


@case_app.command("open")
def case_open(
    customer: Annotated[str, typer.Argument(help="The customer: #id, external id or e-mail.")],
    title: Annotated[str, typer.Argument(help="The problem, in a few words.")],
    severity: Annotated[
        str, typer.Option("--severity", help=f"One of {', '.join(SEVERITIES)}.")
    ] = "normal",
    description: Annotated[
        str, typer.Option("--description", help="The problem in the customer's words.")
    ] = "",
    owner: Annotated[
        str | None,
        typer.Option("--owner", help="E-mail of who handles it (default: the customer's owner)."),
    ] = None,
    database: Database = None,
) -> None:
    """Open a case: a problem a customer raised."""
    from keepwell.accounts.service import find_member
    from keepwell.cases.service import open_case
    from keepwell.customers.service import find_customer

    level = _choice(severity, SEVERITIES, "--severity")
    assert level is not None
    with errors(), session_for(database) as session:
        found = find_customer(session, customer)
        member = find_member(session, owner) if owner else None
        case = open_case(
            session, found, title=title, description=description, severity=level, member=member
        )
        say(f"Opened case #{case.id} for {found.name or f'#{found.id}'} ({case.severity}).")


@case_app.command("respond")
def case_respond(
    case_id: CaseId,
    summary: Annotated[str, typer.Argument(help="What the customer was told.")],
    channel: Annotated[str, typer.Option("--channel", help="How they were told.")] = "email",
    by: By = None,
    database: Database = None,
) -> None:
    """Answer the customer about a case (logged as a touch; the first sets response time)."""
    from keepwell.accounts.service import find_member
    from keepwell.cases.service import get_case, respond

    with errors(), session_for(database) as session:
        case = get_case(session, case_id)
        member = find_member(session, by) if by else None
        respond(session, case, summary=summary, channel=channel, member=member)
        assert case.first_response_at is not None
        hours = (case.first_response_at - case.opened_at).total_seconds() / 3600
        say(f"Logged the answer on case #{case.id} (first response after {hours:.1f} hours).")


@case_app.command("resolve")
def case_resolve(
    case_id: CaseId,
    resolution: Annotated[str, typer.Option("--resolution", help="What was done to solve it.")],
    root_cause_category: Annotated[
        str,
        typer.Option("--root-cause-category", help=f"One of {', '.join(ROOT_CAUSES)}."),
    ],
    root_cause: Annotated[str, typer.Option("--root-cause", help="Why it happened.")] = "",
    prevention: Annotated[
        str, typer.Option("--prevention", help="What changed so it will not happen again.")
    ] = "",
    confirm_after: Annotated[
        int,
        typer.Option("--confirm-after", help="Days until checking with the customer (0-365)."),
    ] = 7,
    by: Annotated[
        str | None,
        typer.Option("--by", help="E-mail of who checks back (default: the case's handler)."),
    ] = None,
    database: Database = None,
) -> None:
    """Resolve a case; a task to confirm it with the customer is created."""
    from keepwell.accounts.service import find_member
    from keepwell.cases.service import get_case, resolve

    category = _choice(root_cause_category, ROOT_CAUSES, "--root-cause-category")
    assert category is not None
    if not 0 <= confirm_after <= 365:
        raise typer.BadParameter("give 0 to 365 days", param_hint="--confirm-after")
    with errors(), session_for(database) as session:
        case = get_case(session, case_id)
        member = find_member(session, by) if by else None
        task = resolve(
            session,
            case,
            resolution=resolution,
            root_cause_category=category,
            root_cause=root_cause,
            prevention=prevention,
            confirm_after_days=confirm_after,
            member=member,
        )
        say(f"Resolved case #{case.id}. Task #{task.id}, due {task.due_on.isoformat()}:")
        say(f"  {task.reason}")


@case_app.command("confirm")
def case_confirm(
    case_id: CaseId,
    note: Annotated[str, typer.Option("--note", help="What the customer said.")] = "",
    channel: Annotated[str, typer.Option("--channel", help="How you spoke with them.")] = "call",
    by: By = None,
    database: Database = None,
) -> None:
    """Confirm with the customer that a resolved case is really solved."""
    from keepwell.accounts.service import find_member
    from keepwell.cases.service import confirm, get_case

    with errors(), session_for(database) as session:
        case = get_case(session, case_id)
        member = find_member(session, by) if by else None
        confirm(session, case, note=note, member=member, channel=channel)
        say(f"Case #{case.id} confirmed.")


@case_app.command("reopen")
def case_reopen(
    case_id: CaseId,
    reason: Annotated[str, typer.Option("--reason", help="Why: what the customer reported.")],
    by: Annotated[str | None, typer.Option("--by", help="E-mail of who records it.")] = None,
    database: Database = None,
) -> None:
    """Reopen a resolved or confirmed case; its open confirmation task is cancelled."""
    from keepwell.accounts.service import find_member
    from keepwell.cases.service import get_case, reopen

    with errors(), session_for(database) as session:
        case = get_case(session, case_id)
        member = find_member(session, by) if by else None
        reopen(session, case, reason=reason, member=member)
        times = "once" if case.reopened_count == 1 else f"{case.reopened_count} times"
        say(f"Case #{case.id} reopened (reopened {times} in all).")


@case_app.command("list")
def case_list(
    status: Annotated[
        str | None, typer.Option("--status", help=f"One of {', '.join(STATUSES)}.")
    ] = None,
    owner: Annotated[
        str | None, typer.Option("--owner", help="E-mail of the member handling them.")
    ] = None,
    customer: Annotated[
        str | None, typer.Option("--customer", help="Only this customer's (#id, id, e-mail).")
    ] = None,
    severity: Annotated[
        str | None, typer.Option("--severity", help=f"One of {', '.join(SEVERITIES)}.")
    ] = None,
    waiting: Annotated[
        bool,
        typer.Option("--waiting", help="Only open cases with no answer yet, oldest first."),
    ] = False,
    limit: Annotated[int, typer.Option("--limit", help="At most this many (1-500).")] = 50,
    database: Database = None,
    as_json: JsonOpt = False,
) -> None:
    """List cases, newest first."""
    from keepwell.accounts.service import find_member
    from keepwell.cases.service import CaseFilter, list_cases
    from keepwell.customers.service import find_customer

    state = _choice(status, STATUSES, "--status")
    level = _choice(severity, SEVERITIES, "--severity")
    if not 1 <= limit <= 500:
        raise typer.BadParameter("give 1 to 500", param_hint="--limit")
    with errors(), session_for(database) as session:
        filters = CaseFilter(
            status=state,
            member_id=find_member(session, owner).id if owner else None,
            customer_id=find_customer(session, customer).id if customer else None,
            severity=level,
            waiting_for_first_response=waiting,
            limit=limit,
        )
        rows = [case_json(session, c) for c in list_cases(session, filters)]
    if as_json:
        print_json(rows)
        return
    if not rows:
        say("No cases.")
        return
    table = Table("id", "customer", "title", "severity", "status", "opened (UTC)", "handler")
    for r in rows:
        table.add_row(
            str(r["id"]),
            escape(r["customer"] or f"#{r['customer_id']}"),
            escape(r["title"]),
            r["severity"],
            r["status"] + (" (waiting)" if r["first_response_at"] is None else ""),
            _when(datetime.fromisoformat(r["opened_at"])),
            r["member"] or "",
        )
    out.print(table)


@case_app.command("show")
def case_show(case_id: CaseId, database: Database = None, as_json: JsonOpt = False) -> None:
    """Show a case: its details, the conversation and its confirmation tasks."""
    from keepwell.cases.service import case_tasks, case_touches, get_case

    with errors(), session_for(database) as session:
        case = get_case(session, case_id)
        shown = case_json(session, case)
        shown["touches"] = [
            {
                "id": t.id,
                "at": t.happened_at.isoformat(),
                "channel": t.channel,
                "direction": t.direction,
                "summary": t.summary,
            }
            for t in case_touches(session, case)
        ]
        shown["tasks"] = [
            {
                "id": t.id,
                "kind": t.kind,
                "status": t.status,
                "due_on": t.due_on.isoformat(),
                "reason": t.reason,
                "outcome": t.outcome,
            }
            for t in case_tasks(session, case)
        ]
    if as_json:
        print_json(shown)
        return
    say(f"Case #{shown['id']}: {shown['title']}")
    say(f"  customer   {shown['customer'] or '#' + str(shown['customer_id'])}")
    say(f"  status     {shown['status']} ({shown['severity']}), handler {shown['member'] or '-'}")
    for label, key in (
        ("opened", "opened_at"),
        ("answered", "first_response_at"),
        ("resolved", "resolved_at"),
        ("confirmed", "confirmed_at"),
        ("reopened", "last_reopened_at"),
    ):
        if shown[key]:
            say(f"  {label:<10} {_when(datetime.fromisoformat(shown[key]))} UTC")
    if shown["reopened_count"]:
        say(f"  reopenings {shown['reopened_count']}")
    for label, key in (
        ("problem", "description"),
        ("resolution", "resolution"),
        ("root cause", "root_cause"),
        ("prevention", "prevention"),
    ):
        if shown[key]:
            say(f"  {label:<10} {shown[key]}")
    if shown["root_cause_category"]:
        say(f"  category   {shown['root_cause_category']}")
    if shown["touches"]:
        say("Conversation:")
        for t in shown["touches"]:
            at = _when(datetime.fromisoformat(t["at"]))
            say(f"  {at} {t['direction']} {t['channel']}: {t['summary']}")
    if shown["tasks"]:
        say("Tasks:")
        for t in shown["tasks"]:
            say(f"  #{t['id']} {t['status']}, due {t['due_on']}: {t['reason']}")
