"""`keepwell date …`: special dates worth marking with a customer."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

import typer
from rich.table import Table

from keepwell import clock
from keepwell.clikit import Database, JsonOpt, errors, out, print_json, say, session_for

date_app = typer.Typer(
    help="Special dates: birthdays, anniversaries, renewals, founding days.", no_args_is_help=True
)

DAY_HELP = "YYYY-MM-DD, today, tomorrow, or +N for N days from today"


def parse_day(text: str) -> date:
    """A day given on the command line: YYYY-MM-DD, today, tomorrow or +N days."""
    value = text.strip().lower()
    today = clock.today()
    if value == "today":
        return today
    if value == "tomorrow":
        return today + timedelta(days=1)
    if value.startswith("+") and value[1:].isdigit():
        days = int(value[1:])
        if days > 3660:
            raise typer.BadParameter(f"{text!r} is more than ten years ahead")
        return today + timedelta(days=days)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date; use {DAY_HELP}") from None


def parse_birthday(text: str) -> date | None:
    """YYYY-MM-DD, MM-DD (year unknown) or none (forget the birthday)."""
    value = text.strip().lower()
    if value in ("none", "-", ""):
        return None
    from keepwell.customers.special_dates import UNKNOWN_BIRTH_YEAR

    try:
        if len(value.lstrip("-")) == 5:  # MM-DD or --MM-DD (ISO 8601 without a year)
            month, day = value.lstrip("-").split("-")
            return date(UNKNOWN_BIRTH_YEAR, int(month), int(day))
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a birthday; use YYYY-MM-DD, MM-DD (year unknown) or none"
        ) from None


CustomerArg = Annotated[
    str,
    typer.Argument(
        metavar="CUSTOMER", help="The customer: #id, external id or e-mail.", show_default=False
    ),
]


@date_app.command("add")
def date_add(
    customer_ref: CustomerArg,
    kind: Annotated[str, typer.Option("--kind", help="anniversary, renewal, founding or custom.")],
    on: Annotated[
        date, typer.Option("--on", parser=parse_day, metavar="DATE", help="The date (YYYY-MM-DD).")
    ],
    label: Annotated[str, typer.Option("--label", help="What the date is, in a few words.")] = "",
    gesture: Annotated[
        str | None,
        typer.Option("--gesture", help="How to mark it (default: one that suits the kind)."),
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="Only this once, not every year.")] = False,
    database: Database = None,
) -> None:
    """Remember a date worth marking with a customer (yearly unless --once)."""
    from keepwell.customers.service import find_customer
    from keepwell.customers.special_dates import add_special_date

    with errors(), session_for(database) as session:
        customer = find_customer(session, customer_ref)
        row = add_special_date(
            session,
            customer,
            kind=kind,
            on_date=on,
            label=label,
            yearly=not once,
            gesture=gesture,
        )
        every = "once" if once else "every year"
        say(
            f"Added {row.kind} #{row.id} for {customer.name or f'#{customer.id}'}: "
            f"{row.on_date.isoformat()} ({every}), suggested: {row.gesture}."
        )


@date_app.command("birthday")
def date_birthday(
    customer_ref: CustomerArg,
    day: Annotated[
        str,
        typer.Argument(
            metavar="DATE",
            help="YYYY-MM-DD, MM-DD when the year is unknown, or none to forget it.",
            show_default=False,
        ),
    ],
    database: Database = None,
) -> None:
    """Set (or forget) a customer's birthday."""
    from keepwell.customers.service import find_customer
    from keepwell.customers.special_dates import set_birthday

    birthday = parse_birthday(day)
    with errors(), session_for(database) as session:
        customer = find_customer(session, customer_ref)
        set_birthday(session, customer, birthday)
        who = customer.name or f"#{customer.id}"
        say(
            f"{who}'s birthday: {_birthday(birthday)}." if birthday else f"Forgot {who}'s birthday."
        )


@date_app.command("list")
def date_list(
    customer_ref: CustomerArg, database: Database = None, as_json: JsonOpt = False
) -> None:
    """List a customer's birthday and special dates."""
    from keepwell.customers.service import find_customer
    from keepwell.customers.special_dates import list_special_dates

    with errors(), session_for(database) as session:
        customer = find_customer(session, customer_ref)
        data: dict[str, Any] = {
            "customer_id": customer.id,
            "customer": customer.name,
            "birthday": customer.birthday.isoformat() if customer.birthday else None,
            "first_seen": customer.first_seen.date().isoformat() if customer.first_seen else None,
            "dates": [
                {
                    "id": d.id,
                    "kind": d.kind,
                    "on_date": d.on_date.isoformat(),
                    "yearly": d.yearly,
                    "label": d.label,
                    "gesture": d.gesture,
                }
                for d in list_special_dates(session, customer)
            ],
        }
    if as_json:
        print_json(data)
        return
    who = data["customer"] or f"#{data['customer_id']}"
    birthday = date.fromisoformat(data["birthday"]) if data["birthday"] else None
    say(f"{who}: birthday {_birthday(birthday) if birthday else 'unknown'}")
    if data["first_seen"]:
        say(f"customer since {data['first_seen']}")
    if not data["dates"]:
        say("No special dates.")
        return
    table = Table("id", "kind", "date", "repeats", "label", "gesture")
    for d in data["dates"]:
        every = "yearly" if d["yearly"] else "once"
        table.add_row(str(d["id"]), d["kind"], d["on_date"], every, d["label"], d["gesture"])
    out.print(table)


@date_app.command("upcoming")
def date_upcoming(
    days: Annotated[int, typer.Option("--days", help="How many days ahead to look.")] = 14,
    owner: Annotated[
        str | None, typer.Option("--owner", help="Only this member's customers (e-mail).")
    ] = None,
    database: Database = None,
    as_json: JsonOpt = False,
) -> None:
    """Birthdays, anniversaries and special dates coming up, soonest first."""
    from keepwell.accounts.service import find_member
    from keepwell.customers.special_dates import upcoming

    with errors(), session_for(database) as session:
        member_id = find_member(session, owner).id if owner else None
        today = clock.today()
        coming = upcoming(session, today=today, days_ahead=days, member_id=member_id)
    if as_json:
        print_json(
            [
                {
                    "customer_id": u.customer_id,
                    "customer": u.customer_name,
                    "owner_id": u.owner_id,
                    "kind": u.kind,
                    "on": u.on.isoformat(),
                    "years": u.years,
                    "label": u.label,
                    "gesture": u.gesture,
                    "cultural_notes": u.cultural_notes,
                    "special_date_id": u.special_date_id,
                }
                for u in coming
            ]
        )
        return
    if not coming:
        say(f"Nothing coming up in the next {days} days.")
        return
    table = Table("when", "customer", "what", "suggested", "mind")
    for u in coming:
        ahead = (u.on - today).days
        when = {0: "today", 1: "tomorrow"}.get(ahead, f"in {ahead} days")
        what = u.kind.replace("_", " ")
        if u.label:
            what += f": {u.label}"
        if u.years:
            what += f" ({u.years})"
        table.add_row(
            f"{u.on:%a %d %b}, {when}", u.customer_name, what, u.gesture, u.cultural_notes or ""
        )
    out.print(table)


@date_app.command("remove")
def date_remove(
    special_date_id: Annotated[int, typer.Argument(metavar="ID", help="The special date's id.")],
    database: Database = None,
) -> None:
    """Forget a special date (see `keepwell date list` for ids)."""
    from keepwell.customers.special_dates import delete_special_date

    with errors(), session_for(database) as session:
        row = delete_special_date(session, special_date_id)
        say(f"Removed {row.kind} #{row.id} ({row.on_date.isoformat()}).")


def _birthday(day: date | None) -> str:
    from keepwell.customers.special_dates import KNOWN_BIRTH_YEARS_FROM

    if day is None:
        return "unknown"
    if day.year < KNOWN_BIRTH_YEARS_FROM:
        return f"{day:%d %B} (year unknown)"
    return day.isoformat()
