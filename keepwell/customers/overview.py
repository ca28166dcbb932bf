"""The desk at a glance, as `keepwell demo` prints it: customers, orders, revenue, the
valuable customers gone quiet, and birthdays coming up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.accounts.models import TeamMember
from keepwell.customers.models import Customer
from keepwell.customers.special_dates import upcoming
from keepwell.orders.models import Order

QUIET_AFTER_DAYS = 180


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


def _aware(moment: datetime) -> datetime:
    # Aggregates (max) come back as plain values, without the column type's processing.
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=clock.now().tzinfo)
