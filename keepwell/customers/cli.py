"""`keepwell show`, `keepwell owner`, `keepwell cadence …`, `keepwell customer …`:
customers for a person."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Group
from rich.table import Table
from rich.text import Text

from keepwell import clikit
from keepwell.customers.schemas import CustomerPublic
from keepwell.customers.service import MAX_LIMIT, SORTS, CustomerFilter
from keepwell.scoring.models import STAGES

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

cadence_app = typer.Typer(help="How often each segment should hear from us.", no_args_is_help=True)
customer_app = typer.Typer(
    help="Customers: the list, and a person's data on request (export it, or erase it).",
    no_args_is_help=True,
)


@clikit.on_desk
def show(
    session: Session,
    customer: clikit.CustomerArg,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="Timeline entries.")] = 30,
    as_json: clikit.JsonOpt = False,
) -> clikit.Shown:
    """A customer's record: profile, owner, personal notes, the timeline (newest first).

    --json prints what GET /api/customers/ID/record answers."""
    from keepwell.customers.record import customer_record
    from keepwell.customers.schemas import CustomerRecordPublic

    record = customer_record(session, customer, limit=limit)
    if as_json:
        return clikit.record_json(CustomerRecordPublic.model_validate(record.to_dict()))
    p = record.profile
    lines = [
        f"{p['name'] or '(no name)'}  #{p['id']}  {p['external_id'] or ''}  {p['email'] or ''}",
        f"owner: {record.owner or '—'}; segment: {p['segment'] or '—'}; "
        f"check in every {record.cadence_days} days; next: {_day(p['next_check_in_at'])}",
        f"{p['order_count']} orders, {p['revenue_minor'] / 100:,.2f} in all; "
        f"last order {_day(p['last_order_at'])}; last contact {_day(p['last_contact_at'])}",
    ]
    for label, key in (("notes", "personal_notes"), ("culture", "cultural_notes")):
        if p[key]:
            lines.append(f"{label}: {p[key]}")
    if p["birthday"]:
        lines.append(f"birthday: {p['birthday']}")
    if p["loyalty"]["tier"]:
        lines.append(f"loyalty: {p['loyalty']['tier']}, {p['loyalty']['points']:,} points")
    lines += [f"{d['kind']}: {d['on']} {d['label']} ({d['gesture']})" for d in record.special_dates]
    table = Table("when", "what", "")
    for entry in record.timeline:
        table.add_row(f"{entry.at:%Y-%m-%d %H:%M}", entry.kind, entry.text)
    return Group(*(Text(line) for line in lines), table)


def _day(value: object) -> str:
    return value.strftime("%Y-%m-%d") if hasattr(value, "strftime") else "—"


@clikit.on_desk
def owner(
    session: Session,
    customer: clikit.CustomerArg,
    member: Annotated[
        clikit.TheMember,
        typer.Argument(metavar="MEMBER", help="The new point person's e-mail."),
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why the change.")] = "",
    by: Annotated[
        clikit.Member, typer.Option("--by", metavar="EMAIL", help="Who makes the change.")
    ] = None,
) -> clikit.Shown:
    """Make a team member the customer's point person (the change is recorded)."""
    from keepwell.customers.service import set_owner

    change = set_owner(session, customer, member, by=by, reason=reason)
    unchanged = "" if change else " (unchanged)"
    who = member.name or member.email
    return f"{customer.name or customer.id} is looked after by {who}{unchanged}"


@cadence_app.command("set")
@clikit.on_desk
def cadence_set(
    session: Session,
    segment: Annotated[str, typer.Argument(help='A segment, or "*" for the default.')],
    days: Annotated[int, typer.Argument(help="Days between check-ins.")],
) -> clikit.Shown:
    """Check in with a segment's customers every DAYS days."""
    from keepwell.customers.service import set_cadence

    moved = set_cadence(session, segment, days)
    return f"{segment}: every {days} days; {moved:,} customers' next check-in moved"


@cadence_app.command("customer")
@clikit.on_desk
def cadence_customer(
    session: Session,
    customer: clikit.CustomerArg,
    days: Annotated[str, typer.Argument(help='Days between check-ins, or "segment" to follow it.')],
) -> clikit.Shown:
    """Give one customer a cadence of their own (or back to their segment's)."""
    from keepwell.customers.service import set_customer_cadence

    if days != "segment" and not days.isdigit():
        raise typer.BadParameter(f'{days!r}: give a number of days or "segment"')
    set_customer_cadence(session, customer, None if days == "segment" else int(days))
    return f"{customer.name or customer.id}: next check-in {_day(customer.next_check_in_at)}"


@cadence_app.command("list")
@clikit.on_desk
def cadence_list(session: Session, as_json: clikit.JsonOpt = False) -> clikit.Shown:
    """The cadence of each segment ("*" is the default)."""
    from keepwell.customers.service import cadences

    found = cadences(session)
    if as_json:
        return clikit.json_of(found)
    return "\n".join(f"{segment}: every {days} days" for segment, days in sorted(found.items()))


@customer_app.command("list")
@clikit.lists(
    CustomerFilter,
    owner_id=clikit.Owner,
    segment=Annotated[str | None, typer.Option("--segment", help="Only this segment.")],
    search=Annotated[
        str | None,
        typer.Option(
            "--search", "-q", help="An external id or e-mail (exactly), or part of the name."
        ),
    ],
    quiet=Annotated[bool, typer.Option("--quiet", help="Only those past their check-in.")],
    stage=Annotated[
        str | None,
        clikit.one_of("--stage", values=STAGES, help="Lifecycle stage at the latest scoring."),
    ],
    sort=Annotated[str, clikit.one_of("--sort", values=SORTS)],
    limit=Annotated[int, clikit.up_to(MAX_LIMIT)],
)
def customer_list(session: Session, filters: CustomerFilter) -> clikit.Listing[CustomerPublic]:
    """List customers, by id unless --sort says otherwise.

    --json prints the `items` of what GET /api/customers answers."""
    from keepwell.customers.service import list_customers

    rows = [CustomerPublic.model_validate(c) for c in list_customers(session, filters)]
    who = clikit.names(session, rows, member="owner_id")
    columns: list[clikit.Column[CustomerPublic]] = [
        ("id", lambda c: c.id),
        ("name", lambda c: c.name),
        ("e-mail", lambda c: c.email),
        ("segment", lambda c: c.segment),
        ("owner", lambda c: who.member(c.owner_id)),
        ("orders", lambda c: c.order_count),
        ("revenue", lambda c: f"{c.revenue_minor / 100:,.2f}"),
        ("last order", lambda c: c.last_order_at and c.last_order_at.date()),
        ("next check-in", lambda c: c.next_check_in_at and c.next_check_in_at.date()),
    ]
    return clikit.Listing(rows, columns, empty="No customers.")


@customer_app.command("export")
@clikit.on_desk
def customer_export(session: Session, customer: clikit.CustomerArg) -> clikit.Shown:
    """Everything held about one customer, as JSON (for a data request)."""
    from keepwell.customers.privacy import export_customer

    return clikit.json_of(export_customer(session, customer))


@customer_app.command("erase")
def customer_erase(
    customer: clikit.CustomerText,
    delete_orders: Annotated[
        bool,
        typer.Option(
            "--delete-orders", help="Delete their orders too (default: keep them, anonymous)."
        ),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    database: clikit.Database = None,
) -> None:
    """Forget a customer: personal data removed everywhere, orders kept anonymous."""
    from keepwell.customers.privacy import erase_customer
    from keepwell.customers.service import find_customer

    if not yes and not typer.confirm(f"Erase everything personal about {customer}?"):
        raise typer.Exit(1)
    with clikit.errors(), clikit.session_for(database) as session:
        found = find_customer(session, customer)
        done = erase_customer(session, found, keep_orders=not delete_orders)
    clikit.say(
        f"Erased customer #{done.customer_id}: {done.interactions} interactions, "
        f"{done.promises} promises, {done.cases} cases, {done.tasks} tasks scrubbed; "
        f"{done.special_dates} special dates deleted; orders {done.orders_kept} kept "
        f"anonymous, {done.orders_deleted} deleted."
    )
