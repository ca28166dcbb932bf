"""`keepwell date …`: special dates worth marking with a customer."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Group
from rich.text import Text

from keepwell import clikit, clock

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

date_app = typer.Typer(
    help="Special dates: birthdays, anniversaries, renewals, founding days.", no_args_is_help=True
)


def parse_birthday(text: str) -> date | None:
    """YYYY-MM-DD, MM-DD (year unknown) or none (forget the birthday)."""
    value = text.strip().lower()
    if value in ("none", "-", ""):
        return None
    from keepwell.customers.special_dates import UNKNOWN_BIRTH_YEAR

    try:
        if len(value.lstrip("-")) == 5:  # MM-DD or --MM-DD (ISO 8601 without a year)
            month, day_of_month = value.lstrip("-").split("-")
            return date(UNKNOWN_BIRTH_YEAR, int(month), int(day_of_month))
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a birthday; use YYYY-MM-DD, MM-DD (year unknown) or none"
        ) from None


@date_app.command("add")
@clikit.on_desk
def date_add(
    session: Session,
    customer: clikit.CustomerArg,
    kind: Annotated[str, typer.Option("--kind", help="anniversary, renewal, founding or custom.")],
    on: Annotated[date, clikit.day("--on", help="The date")],
    label: Annotated[str, typer.Option("--label", help="What the date is, in a few words.")] = "",
    gesture: Annotated[
        str | None,
        typer.Option("--gesture", help="How to mark it (default: one that suits the kind)."),
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="Only this once, not every year.")] = False,
) -> clikit.Shown:
    """Remember a date worth marking with a customer (yearly unless --once)."""
    from keepwell.customers.special_dates import add_special_date

    row = add_special_date(
        session, customer, kind=kind, on_date=on, label=label, yearly=not once, gesture=gesture
    )
    return (
        f"Added {row.kind} #{row.id} for {customer.name or f'#{customer.id}'}: "
        f"{row.on_date.isoformat()} ({'once' if once else 'every year'}), "
        f"suggested: {row.gesture}."
    )


@date_app.command("birthday")
@clikit.on_desk
def date_birthday(
    session: Session,
    customer: clikit.CustomerArg,
    birthday: Annotated[
        str,
        typer.Argument(
            metavar="DATE",
            help="YYYY-MM-DD, MM-DD when the year is unknown, or none to forget it.",
            show_default=False,
        ),
    ],
) -> clikit.Shown:
    """Set (or forget) a customer's birthday."""
    from keepwell.customers.special_dates import set_birthday

    day = parse_birthday(birthday)
    set_birthday(session, customer, day)
    who = customer.name or f"#{customer.id}"
    return f"{who}'s birthday: {_birthday(day)}." if day else f"Forgot {who}'s birthday."


@date_app.command("list")
@clikit.on_desk
def date_list(
    session: Session, customer: clikit.CustomerArg, as_json: clikit.JsonOpt = False
) -> clikit.Shown:
    """List a customer's birthday and special dates.

    With --json its `dates` are what GET /api/customers/ID/special-dates answers."""
    from keepwell.customers.schemas import SpecialDatePublic
    from keepwell.customers.special_dates import list_special_dates

    dates = [SpecialDatePublic.model_validate(d) for d in list_special_dates(session, customer)]
    first_seen = customer.first_seen.date() if customer.first_seen else None
    if as_json:
        return clikit.json_of(
            {
                "customer_id": customer.id,
                "customer": customer.name,
                "birthday": customer.birthday.isoformat() if customer.birthday else None,
                "first_seen": first_seen.isoformat() if first_seen else None,
                "dates": [d.model_dump(mode="json") for d in dates],
            }
        )
    lines = [f"{customer.name or f'#{customer.id}'}: birthday {_birthday(customer.birthday)}"]
    if first_seen:
        lines.append(f"customer since {first_seen.isoformat()}")
    table = clikit.listing(
        dates,
        (
            ("id", lambda d: d.id),
            ("kind", lambda d: d.kind),
            ("date", lambda d: d.on_date),
            ("repeats", lambda d: "yearly" if d.yearly else "once"),
            ("label", lambda d: d.label),
            ("gesture", lambda d: d.gesture),
        ),
        as_json=False,
        empty="No special dates.",
    )
    return Group(*(Text(line) for line in lines), table or "")


@date_app.command("upcoming")
@clikit.on_desk
def date_upcoming(
    session: Session,
    days: Annotated[int, typer.Option("--days", help="How many days ahead to look.")] = 14,
    owner: clikit.Owner = None,
    as_json: clikit.JsonOpt = False,
) -> clikit.Shown:
    """Birthdays, anniversaries and special dates coming up, soonest first.

    --json prints what GET /api/special-dates/upcoming answers."""
    from keepwell.customers.schemas import UpcomingPublic
    from keepwell.customers.special_dates import upcoming

    today = clock.today()
    coming = upcoming(session, today=today, days_ahead=days, member_id=owner)
    rows = [UpcomingPublic.model_validate(u, from_attributes=True) for u in coming]

    def ahead(on: date) -> str:
        later = (on - today).days
        return f"{on:%a %d %b}, " + {0: "today", 1: "tomorrow"}.get(later, f"in {later} days")

    def what(u: UpcomingPublic) -> str:
        label = f": {u.label}" if u.label else ""
        return u.kind.replace("_", " ") + label + (f" ({u.years})" if u.years else "")

    return clikit.listing(
        rows,
        (
            ("when", lambda u: ahead(u.on)),
            ("customer", lambda u: u.customer_name),
            ("what", what),
            ("suggested", lambda u: u.gesture),
            ("mind", lambda u: u.cultural_notes),
        ),
        as_json=as_json,
        empty=f"Nothing coming up in the next {days} days.",
    )


@date_app.command("remove")
@clikit.on_desk
def date_remove(
    session: Session,
    special_date_id: Annotated[int, typer.Argument(metavar="ID", help="The special date's id.")],
) -> clikit.Shown:
    """Forget a special date (see `keepwell date list` for ids)."""
    from keepwell.customers.special_dates import delete_special_date

    row = delete_special_date(session, special_date_id)
    return f"Removed {row.kind} #{row.id} ({row.on_date.isoformat()})."


def _birthday(day: date | None) -> str:
    from keepwell.customers.special_dates import KNOWN_BIRTH_YEARS_FROM

    if day is None:
        return "unknown"
    if day.year < KNOWN_BIRTH_YEARS_FROM:
        return f"{day:%d %B} (year unknown)"
    return day.isoformat()
