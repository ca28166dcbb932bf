"""`keepwell show`, `keepwell owner`, `keepwell cadence …`: customers for a person."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from keepwell.clikit import Database, JsonOpt, errors, out, print_json, say, session_for

cadence_app = typer.Typer(help="How often each segment should hear from us.", no_args_is_help=True)
customer_app = typer.Typer(
    help="A person's data on request: export it, or erase it.", no_args_is_help=True
)

CustomerArg = Annotated[str, typer.Argument(help="The customer: #id, external id or e-mail.")]


def show(
    customer: CustomerArg,
    database: Database = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="Timeline entries.")] = 30,
    as_json: JsonOpt = False,
) -> None:
    """A customer's record: profile, owner, personal notes, the timeline (newest first)."""
    from keepwell.customers.record import customer_record
    from keepwell.customers.service import find_customer

    with errors(), session_for(database) as session:
        record = customer_record(session, find_customer(session, customer), limit=limit)
    if as_json:
        print_json(record.to_dict())
        return
    p = record.profile
    say(f"{p['name'] or '(no name)'}  #{p['id']}  {p['external_id'] or ''}  {p['email'] or ''}")
    say(
        f"owner: {record.owner or '—'}; segment: {p['segment'] or '—'}; "
        f"check in every {record.cadence_days} days; next: {_day(p['next_check_in_at'])}"
    )
    say(
        f"{p['order_count']} orders, {p['revenue_minor'] / 100:,.2f} in all; "
        f"last order {_day(p['last_order_at'])}; last contact {_day(p['last_contact_at'])}"
    )
    for label, key in (("notes", "personal_notes"), ("culture", "cultural_notes")):
        if p[key]:
            say(f"{label}: {p[key]}")
    if p["birthday"]:
        say(f"birthday: {p['birthday']}")
    if p["loyalty"]["tier"]:
        say(f"loyalty: {p['loyalty']['tier']}, {p['loyalty']['points']:,} points")
    for d in record.special_dates:
        say(f"{d['kind']}: {d['on']} {d['label']} ({d['gesture']})")
    table = Table("when", "what", "")
    for entry in record.timeline:
        table.add_row(f"{entry.at:%Y-%m-%d %H:%M}", entry.kind, entry.text)
    out.print(table)


def _day(value: object) -> str:
    return value.strftime("%Y-%m-%d") if hasattr(value, "strftime") else "—"


def owner(
    customer: CustomerArg,
    member: Annotated[str, typer.Argument(help="The new point person's e-mail.")],
    database: Database = None,
    reason: Annotated[str, typer.Option("--reason", help="Why the change.")] = "",
    by: Annotated[str | None, typer.Option("--by", help="Who makes the change (e-mail).")] = None,
) -> None:
    """Make a team member the customer's point person (the change is recorded)."""
    from keepwell.accounts.service import find_member
    from keepwell.customers.service import find_customer, set_owner

    with errors(), session_for(database) as session:
        found = find_customer(session, customer)
        new = find_member(session, member)
        actor = find_member(session, by) if by else None
        change = set_owner(session, found, new, by=actor, reason=reason)
        say(
            f"{found.name or found.id} is looked after by {new.name or new.email}"
            + ("" if change else " (unchanged)")
        )


@cadence_app.command("set")
def cadence_set(
    segment: Annotated[str, typer.Argument(help='A segment, or "*" for the default.')],
    days: Annotated[int, typer.Argument(help="Days between check-ins.")],
    database: Database = None,
) -> None:
    """Check in with a segment's customers every DAYS days."""
    from keepwell.customers.service import set_cadence

    with errors(), session_for(database) as session:
        moved = set_cadence(session, segment, days)
    say(f"{segment}: every {days} days; {moved:,} customers' next check-in moved")


@cadence_app.command("customer")
def cadence_customer(
    customer: CustomerArg,
    days: Annotated[str, typer.Argument(help='Days between check-ins, or "segment" to follow it.')],
    database: Database = None,
) -> None:
    """Give one customer a cadence of their own (or back to their segment's)."""
    from keepwell.customers.service import find_customer, set_customer_cadence

    if days != "segment" and not days.isdigit():
        raise typer.BadParameter(f'{days!r}: give a number of days or "segment"')
    with errors(), session_for(database) as session:
        found = find_customer(session, customer)
        set_customer_cadence(session, found, None if days == "segment" else int(days))
        next_at = found.next_check_in_at
        say(f"{found.name or found.id}: next check-in {_day(next_at)}")


@cadence_app.command("list")
def cadence_list(database: Database = None, as_json: JsonOpt = False) -> None:
    """The cadence of each segment ("*" is the default)."""
    from keepwell.customers.service import cadences

    with errors(), session_for(database) as session:
        found = cadences(session)
    if as_json:
        print_json(found)
        return
    for segment, days in sorted(found.items()):
        say(f"{segment}: every {days} days")


@customer_app.command("export")
def customer_export(customer: CustomerArg, database: Database = None) -> None:
    """Everything held about one customer, as JSON (for a data request)."""
    from keepwell.customers.privacy import export_customer
    from keepwell.customers.service import find_customer

    with errors(), session_for(database) as session:
        data = export_customer(session, find_customer(session, customer))
    print_json(data)


@customer_app.command("erase")
def customer_erase(
    customer: CustomerArg,
    database: Database = None,
    delete_orders: Annotated[
        bool,
        typer.Option(
            "--delete-orders", help="Delete their orders too (default: keep them, anonymous)."
        ),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Forget a customer: personal data removed everywhere, orders kept anonymous."""
    from keepwell.customers.privacy import erase_customer
    from keepwell.customers.service import find_customer

    if not yes and not typer.confirm(f"Erase everything personal about {customer}?"):
        raise typer.Exit(1)
    with errors(), session_for(database) as session:
        done = erase_customer(
            session, find_customer(session, customer), keep_orders=not delete_orders
        )
    say(
        f"Erased customer #{done.customer_id}: {done.interactions} interactions, "
        f"{done.promises} promises, {done.cases} cases, {done.tasks} tasks scrubbed; "
        f"{done.special_dates} special dates deleted; orders {done.orders_kept} kept "
        f"anonymous, {done.orders_deleted} deleted."
    )
