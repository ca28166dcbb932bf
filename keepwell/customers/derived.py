"""Columns of `customers` that are derived from other tables, kept in step in bulk SQL.

The agenda must answer in milliseconds on a million customers, so what it sorts and
filters by — the next check-in, order count and revenue, birthday and anniversary as
month-day — is stored on the customer row and indexed. Services keep single customers
in step as they change them; `refresh` recomputes many at once (after an import, a
cadence change, an upgrade).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keepwell.customers.models import Cadence, Customer
from keepwell.db import month_day, plus_days, table_of
from keepwell.orders.models import Order
from keepwell.touches.models import Touch

DEFAULT_SEGMENT = "*"
DEFAULT_CADENCE_DAYS = 90


def refresh(conn: Connection, customer_ids: Iterable[int] | None = None) -> None:
    """Recompute the derived columns of these customers (all when None)."""
    ids = None if customer_ids is None else sorted(set(customer_ids))
    if ids == []:
        return
    for part in _parts(ids):
        for statement in _statements(conn.dialect.name, part):
            conn.execute(statement)


def _parts(ids: list[int] | None) -> list[list[int] | None]:
    if ids is None:
        return [None]
    return [ids[i : i + 20_000] for i in range(0, len(ids), 20_000)]


def _statements(dialect: str, ids: list[int] | None) -> list[sa.Update]:
    customers = table_of(Customer)
    orders = table_of(Order)
    cadences = table_of(Cadence)
    totals = sa.select(
        orders.c.customer_id,
        sa.func.count().label("n"),
        sa.func.sum(orders.c.amount_minor).label("total"),
        sa.func.min(orders.c.ordered_at).label("first"),
        sa.func.max(orders.c.ordered_at).label("last"),
    ).group_by(orders.c.customer_id)
    if ids is not None:
        totals = totals.where(orders.c.customer_id.in_(ids))
    agg = totals.subquery("agg")
    touches = table_of(Touch)
    outbound = sa.case((touches.c.direction == "outbound", touches.c.happened_at))
    heard = sa.select(
        touches.c.customer_id,
        sa.func.max(touches.c.happened_at).label("last"),
        sa.func.max(outbound).label("out"),
    ).group_by(touches.c.customer_id)
    if ids is not None:
        heard = heard.where(touches.c.customer_id.in_(ids))
    contact = heard.subquery("contact")
    segment_days = (
        sa.select(cadences.c.days)
        .where(cadences.c.segment == customers.c.segment)
        .scalar_subquery()
    )
    default_days = (
        sa.select(cadences.c.days).where(cadences.c.segment == DEFAULT_SEGMENT).scalar_subquery()
    )
    days = sa.func.coalesce(
        customers.c.cadence_days, segment_days, default_days, DEFAULT_CADENCE_DAYS
    )
    base = sa.func.coalesce(
        customers.c.last_contact_at, customers.c.first_seen, customers.c.created_at
    )
    where = [] if ids is None else [customers.c.id.in_(ids)]
    return [
        # one pass over the orders, grouped: counts, revenue, first and last purchase
        sa.update(customers)
        .where(customers.c.id == agg.c.customer_id)
        .values(
            order_count=agg.c.n,
            revenue_minor=agg.c.total,
            last_order_at=agg.c.last,
            # first seen at the earliest order, unless known to be earlier still
            first_seen=sa.case(
                (
                    sa.or_(customers.c.first_seen.is_(None), customers.c.first_seen > agg.c.first),
                    agg.c.first,
                ),
                else_=customers.c.first_seen,
            ),
        ),
        # the last interaction, and our last outbound one
        sa.update(customers)
        .where(customers.c.id == contact.c.customer_id)
        .values(last_contact_at=contact.c.last, last_outbound_at=contact.c.out),
        sa.update(customers)
        .where(*where)
        .values(
            birthday_md=month_day(dialect, customers.c.birthday),
            anniversary_md=month_day(dialect, customers.c.first_seen),
            next_check_in_at=plus_days(dialect, base, days),
        ),
    ]


def cadence_days(conn: Connection, customer: Customer) -> int:
    """How many days may pass between check-ins with this customer."""
    if customer.cadence_days:
        return customer.cadence_days
    cadences = table_of(Cadence)
    rows = dict(
        conn.execute(
            sa.select(cadences.c.segment, cadences.c.days).where(
                cadences.c.segment.in_([customer.segment or "", DEFAULT_SEGMENT])
            )
        ).all()
    )
    days = rows.get(customer.segment or "", rows.get(DEFAULT_SEGMENT))
    return int(days) if days is not None else DEFAULT_CADENCE_DAYS


def next_check_in(customer: Customer, days: int) -> datetime | None:
    """One cadence after the last interaction (or, never contacted, after first seen)."""
    base = customer.last_contact_at or customer.first_seen or customer.created_at
    return base + timedelta(days=days) if base is not None else None


def md(day: date | datetime | None) -> int | None:
    return None if day is None else day.month * 100 + day.day
