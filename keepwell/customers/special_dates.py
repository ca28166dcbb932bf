"""Special dates worth marking with a customer, and which of them come up soon.

Birthdays live on the customer (`Customer.birthday`); the anniversary of becoming a
customer follows from `first_seen`; everything else (a contract anniversary, a renewal,
the customer's founding day, anything custom) is a `SpecialDate` row, yearly or once.

"Coming up" must answer in milliseconds for one member among a million customers, so it
never looks at every customer: each date is also stored as month * 100 + day
(`birthday_md`, `anniversary_md`, `on_md`) and indexed — with the owner first on
`customers` — and the window ahead becomes one or two ranges of month-days (two when it
runs over the year end). 29 February is celebrated on 28 February in other years.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.accounts.models import TeamMember
from keepwell.customers.derived import md
from keepwell.customers.models import Customer, SpecialDate
from keepwell.db import get_or_raise
from keepwell.errors import InvalidInput, check_text

# What a gesture defaults to, by kind of special date.
GESTURES = {
    "anniversary": "a handwritten note",
    "renewal": "a call before the renewal",
    "founding": "a small gift",
    "custom": "a personal note",
}
KINDS = tuple(GESTURES)
BIRTHDAY_GESTURE = "a card"
CUSTOMER_ANNIVERSARY_GESTURE = "a handwritten thank-you note"
MILESTONE_GESTURE = "a small gift and a handwritten note"
MILESTONE_YEARS = 5
# A birthday stored with a year before this one has no known year (address books use
# 1604 or 1900; Keepwell stores a birthday given as month-day in 1904, a leap year).
KNOWN_BIRTH_YEARS_FROM = 1905
UNKNOWN_BIRTH_YEAR = 1904
MAX_DAYS_AHEAD = 364  # less than a year: each yearly date comes up at most once
MAX_LIMIT = 1000
MAX_TEXT = 200
FEB_28, FEB_29 = 228, 229
# Every statement of `upcoming` reads (customer id, name, owner id, cultural notes, date).
Statement = sa.Select[Any, Any, Any, Any, Any]


def next_anniversary(day: date, today: date) -> date:
    """The next time `day` comes round, from `today` on (29 February falls on the 28th)."""
    for year in (today.year, today.year + 1):
        try:
            candidate = day.replace(year=year)
        except ValueError:
            candidate = date(year, 2, 28)
        if candidate >= today:
            return candidate
    raise AssertionError("unreachable")


def add_special_date(
    session: Session,
    customer: Customer,
    *,
    kind: str,
    on_date: date,
    label: str = "",
    yearly: bool = True,
    gesture: str | None = None,
) -> SpecialDate:
    """Remember a date with `customer`: yearly (its anniversaries come up) or once.

    `gesture` is how to mark it; by default one that suits the kind.
    """
    kind = kind.strip().lower()
    if kind == "birthday":
        raise InvalidInput("kind", "a birthday is kept on the customer: use set_birthday")
    if kind not in KINDS:
        raise InvalidInput("kind", f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    if not isinstance(on_date, date) or isinstance(on_date, datetime):
        raise InvalidInput("on_date", "give a date (YYYY-MM-DD)")
    label = " ".join(label.split())
    gesture = " ".join(gesture.split()) if gesture is not None else GESTURES[kind]
    for field, text in (("label", label), ("gesture", gesture)):
        check_text(field, text, MAX_TEXT)
    same = session.scalar(
        sa.select(SpecialDate.id).where(
            SpecialDate.customer_id == customer.id,
            SpecialDate.kind == kind,
            SpecialDate.on_date == on_date,
            SpecialDate.label == label,
        )
    )
    if same is not None:
        raise InvalidInput("on_date", f"this date is recorded already (#{same})")
    row = SpecialDate(
        customer_id=customer.id,
        kind=kind,
        label=label,
        on_date=on_date,
        yearly=yearly,
        on_md=md(on_date),
        gesture=gesture,
    )
    session.add(row)
    session.flush()
    return row


def set_birthday(session: Session, customer: Customer, day: date | None) -> None:
    """Set (or, with None, forget) the customer's birthday.

    A birthday whose year is unknown is given in the year 1904 (see UNKNOWN_BIRTH_YEAR).
    """
    if day is not None:
        if not isinstance(day, date) or isinstance(day, datetime):
            raise InvalidInput("birthday", "give a date (YYYY-MM-DD)")
        if day > clock.today():
            raise InvalidInput("birthday", f"{day.isoformat()} is in the future")
    customer.birthday = day
    customer.birthday_md = md(day)
    session.flush()


def get_special_date(session: Session, special_date_id: int) -> SpecialDate:
    return get_or_raise(session, SpecialDate, special_date_id, "special date")


def delete_special_date(session: Session, special_date_id: int) -> SpecialDate:
    """Forget a special date; returns the row that was deleted."""
    row = get_special_date(session, special_date_id)
    session.delete(row)
    session.flush()
    return row


def list_special_dates(session: Session, customer: Customer) -> list[SpecialDate]:
    """The customer's special dates, in calendar order (January first)."""
    return list(
        session.scalars(
            sa.select(SpecialDate)
            .where(SpecialDate.customer_id == customer.id)
            .order_by(SpecialDate.on_md, SpecialDate.on_date, SpecialDate.id)
        )
    )


# --- coming up ---------------------------------------------------------------------


@dataclass(frozen=True)
class Upcoming:
    """A date coming up with a customer, and a suggested way to mark it."""

    customer_id: int
    customer_name: str
    owner_id: int | None
    kind: str  # "birthday", "customer_anniversary", or a SpecialDate kind
    on: date  # the next occurrence
    years: int | None  # anniversaries: how many years; birthdays: the age, if known
    label: str
    gesture: str
    cultural_notes: str | None
    special_date_id: int | None = None


@dataclass(frozen=True)
class Window:
    """Part of the days ahead that lies within one calendar year, as month-days."""

    year: int
    low_md: int
    high_md: int
    first: date
    last: date


def windows(today: date, days_ahead: int) -> list[Window]:
    """The days from `today` to `today + days_ahead`, as one or two month-day ranges.

    In a year without 29 February, a range that takes in 28 February takes in 229 as
    well: those dates are celebrated on the 28th.
    """
    end = today + timedelta(days=days_ahead)
    if end.year == today.year:
        parts = [Window(today.year, _md(today), _md(end), today, end)]
    else:
        year_end = date(today.year, 12, 31)
        next_start = date(end.year, 1, 1)
        parts = [
            Window(today.year, _md(today), 1231, today, year_end),
            Window(end.year, 101, _md(end), next_start, end),
        ]
    result = []
    for part in parts:
        high = part.high_md
        if not calendar.isleap(part.year) and part.low_md <= FEB_28 <= high:
            high = max(high, FEB_29)
        if part is not parts[0]:  # never the same month-day twice
            high = min(high, parts[0].low_md - 1)
        if high >= part.low_md:
            result.append(Window(part.year, part.low_md, high, part.first, part.last))
    return result


def upcoming_statements(
    *,
    today: date,
    days_ahead: int = 14,
    member_id: int | None = None,
    limit: int = 200,
) -> list[tuple[str, Window, Statement]]:
    """The statements `upcoming` runs: (source, window, statement), each on an md index.

    Each returns at most `limit` rows, in date order within its window.
    """
    _check(days_ahead, limit)
    statements: list[tuple[str, Window, Statement]] = []
    for window in windows(today, days_ahead):
        for owned in _owner_scopes(member_id):
            birthdays = (
                sa.select(
                    Customer.id,
                    Customer.name,
                    Customer.owner_id,
                    Customer.cultural_notes,
                    Customer.birthday,
                )
                .where(owned, Customer.birthday_md.between(window.low_md, window.high_md))
                .order_by(Customer.birthday_md, Customer.name, Customer.id)
                .limit(limit)
            )
            statements.append(("birthday", window, birthdays))
            # the first anniversary comes in the year after the customer was first seen
            first_year_over = datetime(window.year, 1, 1, tzinfo=UTC)
            anniversaries = (
                sa.select(
                    Customer.id,
                    Customer.name,
                    Customer.owner_id,
                    Customer.cultural_notes,
                    Customer.first_seen,
                )
                .where(
                    owned,
                    Customer.anniversary_md.between(window.low_md, window.high_md),
                    Customer.first_seen < first_year_over,
                )
                .order_by(Customer.anniversary_md, Customer.name, Customer.id)
                .limit(limit)
            )
            statements.append(("customer_anniversary", window, anniversaries))
        specials = (
            sa.select(
                Customer.id,
                Customer.name,
                Customer.owner_id,
                Customer.cultural_notes,
                SpecialDate,
            )
            .join(Customer, Customer.id == SpecialDate.customer_id)
            .where(
                SpecialDate.on_md.between(window.low_md, window.high_md),
                sa.or_(
                    # yearly: from the year of the date on
                    sa.and_(
                        SpecialDate.yearly.is_(True),
                        SpecialDate.on_date <= date(window.year, 12, 31),
                    ),
                    # once: on that very day
                    sa.and_(
                        SpecialDate.yearly.is_(False),
                        SpecialDate.on_date.between(window.first, window.last),
                    ),
                ),
            )
            .order_by(SpecialDate.on_md, Customer.name, SpecialDate.id)
            .limit(limit)
        )
        if member_id is not None:
            # `+ 0` keeps SQLite from starting at all of the owner's customers (the owner
            # index): the special dates within the window are the far smaller set.
            specials = specials.where(Customer.owner_id + 0 == member_id)
        statements.append(("special", window, specials))
    return statements


def upcoming(
    session: Session,
    *,
    today: date,
    days_ahead: int = 14,
    member_id: int | None = None,
    limit: int = 200,
) -> list[Upcoming]:
    """Birthdays, customer anniversaries and special dates from `today` to `days_ahead`
    days later, soonest first; for one member's customers, or everyone's.
    """
    found: list[Upcoming] = []
    for source, window, statement in upcoming_statements(
        today=today, days_ahead=days_ahead, member_id=member_id, limit=limit
    ):
        for row in session.execute(statement):
            item = _item(source, row, today)
            if item is not None and window.first <= item.on <= window.last:
                found.append(item)
    found.sort(key=lambda u: (u.on, u.customer_name, u.customer_id, u.kind))
    return found[:limit]


def _item(source: str, row: Any, today: date) -> Upcoming | None:
    customer_id, name, owner_id, notes, value = row
    if source == "birthday":
        on = next_anniversary(value, today)
        age = on.year - value.year if value.year >= KNOWN_BIRTH_YEARS_FROM else None
        return Upcoming(
            customer_id, name, owner_id, "birthday", on, age, "", BIRTHDAY_GESTURE, notes
        )
    if source == "customer_anniversary":
        seen = value.astimezone(UTC).date()
        on = next_anniversary(seen, today)
        years = on.year - seen.year
        if years < 1:
            return None
        gesture = MILESTONE_GESTURE if years >= MILESTONE_YEARS else CUSTOMER_ANNIVERSARY_GESTURE
        return Upcoming(
            customer_id, name, owner_id, "customer_anniversary", on, years, "", gesture, notes
        )
    special: SpecialDate = value
    if special.yearly:
        on = next_anniversary(special.on_date, today)
        if on < special.on_date:
            return None
    else:
        on = special.on_date
    years = on.year - special.on_date.year
    return Upcoming(
        customer_id,
        name,
        owner_id,
        special.kind,
        on,
        years if years > 0 else None,
        special.label,
        special.gesture,
        notes,
        special.id,
    )


def _owner_scopes(member_id: int | None) -> list[sa.ColumnElement[bool]]:
    """Conditions on the owner that let the (owner_id, …_md) indexes be used.

    Everyone's customers are those of each team member (an index range per member),
    plus the customers without an owner.
    """
    if member_id is not None:
        return [Customer.owner_id == member_id]
    return [Customer.owner_id.in_(sa.select(TeamMember.id)), Customer.owner_id.is_(None)]


def _check(days_ahead: int, limit: int) -> None:
    if not 0 <= days_ahead <= MAX_DAYS_AHEAD:
        raise InvalidInput("days_ahead", f"look 0 to {MAX_DAYS_AHEAD} days ahead, not {days_ahead}")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput("limit", f"give 1 to {MAX_LIMIT}, not {limit}")


def _md(day: date) -> int:
    return day.month * 100 + day.day
