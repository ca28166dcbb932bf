"""Operations on customers: look-ups, the owner, the check-in cadence, the overview."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.accounts.models import TeamMember
from keepwell.customers import derived
from keepwell.customers.models import Cadence, Customer, OwnerChange
from keepwell.errors import InvalidInput, NotFound
from keepwell.orders.models import Order

QUIET_AFTER_DAYS = 180


def find_customer(session: Session, ref: str | int) -> Customer:
    """A customer by Keepwell id (`#12` or 12), external id, or e-mail address."""
    text = str(ref).strip()
    customer: Customer | None = None
    if isinstance(ref, int) or (text.startswith("#") and text[1:].isdigit()):
        customer = session.get(Customer, int(text.lstrip("#")))
    else:
        customer = session.scalar(sa.select(Customer).where(Customer.external_id == text))
        if customer is None and "@" in text:
            customer = session.scalar(
                sa.select(Customer)
                .where(Customer.email == text.lower())
                .order_by(Customer.id)
                .limit(1)
            )
        if customer is None and text.isdigit():
            customer = session.get(Customer, int(text))
    if customer is None:
        raise NotFound(f"no customer {ref!r} (give an id like #12, an external id or an e-mail)")
    return customer


def set_owner(
    session: Session,
    customer: Customer,
    member: TeamMember | None,
    *,
    by: TeamMember | None = None,
    reason: str = "",
) -> OwnerChange | None:
    """Make `member` the customer's point person; the change is recorded."""
    new_id = member.id if member is not None else None
    if customer.owner_id == new_id:
        return None
    change = OwnerChange(
        customer_id=customer.id,
        from_member_id=customer.owner_id,
        to_member_id=new_id,
        changed_by_id=by.id if by is not None else None,
        changed_at=clock.now(),
        reason=reason,
    )
    customer.owner_id = new_id
    session.add(change)
    session.flush()
    return change


def reschedule(session: Session, customer: Customer) -> None:
    """Set the next check-in: one cadence after the last interaction."""
    days = derived.cadence_days(session.connection(), customer)
    customer.next_check_in_at = derived.next_check_in(customer, days)


def set_cadence(session: Session, segment: str, days: int) -> int:
    """Check in with a segment's customers every `days` days ("*" for the default).

    Returns how many customers' next check-in moved.
    """
    if not 1 <= days <= 3660:
        raise InvalidInput("days", f"a cadence is 1 to 3660 days, not {days}")
    segment = segment.strip().lower() or derived.DEFAULT_SEGMENT
    row = session.get(Cadence, segment)
    if row is None:
        session.add(Cadence(segment=segment, days=days))
    else:
        row.days = days
    session.flush()
    affected = sa.select(Customer.id).where(Customer.cadence_days.is_(None))
    if segment != derived.DEFAULT_SEGMENT:
        affected = affected.where(Customer.segment == segment)
    ids = list(session.scalars(affected))
    derived.refresh(session.connection(), ids)
    session.expire_all()
    return len(ids)


def set_customer_cadence(session: Session, customer: Customer, days: int | None) -> None:
    """Check in with this customer every `days` days (None: as their segment)."""
    if days is not None and not 1 <= days <= 3660:
        raise InvalidInput("days", f"a cadence is 1 to 3660 days, not {days}")
    customer.cadence_days = days
    reschedule(session, customer)
    session.flush()


def cadences(session: Session) -> dict[str, int]:
    rows = session.execute(sa.select(Cadence.segment, Cadence.days))
    return {segment: days for segment, days in rows}


@dataclass(frozen=True)
class QuietCustomer:
    id: int
    name: str
    owner: str
    last_order: datetime
    orders: int
    revenue_minor: int
    currency: str


@dataclass(frozen=True)
class UpcomingBirthday:
    id: int
    name: str
    owner: str
    on: date
    cultural_notes: str | None


@dataclass(frozen=True)
class DeskOverview:
    customers: int
    orders: int
    members: int
    revenue_minor: int
    currency: str
    active_customers: int  # bought in the last QUIET_AFTER_DAYS days
    quiet: list[QuietCustomer]
    birthdays: list[UpcomingBirthday]


def overview(session: Session, *, quiet_limit: int = 10, birthday_days: int = 14) -> DeskOverview:
    """What the desk shows at a glance: size, revenue, who went quiet, whose birthday is near."""
    today = clock.today()
    cutoff = clock.now() - timedelta(days=QUIET_AFTER_DAYS)
    customers = session.scalar(sa.select(sa.func.count()).select_from(Customer)) or 0
    orders, revenue = session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Order.amount_minor), 0))
    ).one()
    currency = session.scalar(
        sa.select(Order.currency).group_by(Order.currency).order_by(sa.func.count().desc())
    )
    members = session.scalar(sa.select(sa.func.count()).select_from(TeamMember)) or 0
    per_customer = (
        sa.select(
            Order.customer_id.label("customer_id"),
            sa.func.max(Order.ordered_at).label("last_order"),
            sa.func.count().label("orders"),
            sa.func.sum(Order.amount_minor).label("revenue"),
        )
        .group_by(Order.customer_id)
        .subquery()
    )
    active = session.scalar(
        sa.select(sa.func.count())
        .select_from(per_customer)
        .where(per_customer.c.last_order >= cutoff)
    )
    owner_name = sa.func.coalesce(TeamMember.name, "")
    names = {m.id: m.name for m in session.scalars(sa.select(TeamMember))}
    quiet_rows = session.execute(
        sa.select(
            Customer.id,
            Customer.name,
            owner_name,
            per_customer.c.last_order,
            per_customer.c.orders,
            per_customer.c.revenue,
        )
        .join(per_customer, per_customer.c.customer_id == Customer.id)
        .outerjoin(TeamMember, TeamMember.id == Customer.owner_id)
        .where(per_customer.c.last_order < cutoff, per_customer.c.orders > 1)
        .order_by(per_customer.c.revenue.desc())
        .limit(quiet_limit)
    ).all()
    quiet = [
        QuietCustomer(r[0], r[1], r[2], _aware(r[3]), r[4], int(r[5]), currency or "")
        for r in quiet_rows
    ]
    from keepwell.customers.special_dates import upcoming

    birthdays = [
        UpcomingBirthday(c.customer_id, c.customer_name, names.get(c.owner_id or 0, ""), c.on,
                         c.cultural_notes)
        for c in upcoming(session, today=today, days_ahead=birthday_days, limit=1000)
        if c.kind == "birthday"
    ]  # fmt: skip
    birthdays.sort(key=lambda b: (b.on, b.name))
    return DeskOverview(
        customers,
        int(orders),
        members,
        int(revenue),
        currency or "",
        int(active or 0),
        quiet,
        birthdays,
    )


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


def _aware(moment: datetime) -> datetime:
    # Aggregates (max) come back as plain values, without the column type's processing.
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=clock.now().tzinfo)
