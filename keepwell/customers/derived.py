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
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keepwell.customers.models import Cadence, Customer
from keepwell.db import month_day, plus_days, table_of
from keepwell.orders.models import Order
from keepwell.touches.models import Touch

DEFAULT_SEGMENT = "*"
DEFAULT_CADENCE_DAYS = 90


def refresh(conn: Connection, customer_ids: Iterable[int] | None = None) -> None:
    """Recompute the derived columns of these customers (all when None).

    A large share of the desk is refreshed in one pass over the tables rather than
    customer by customer.
    """
    ids = None if customer_ids is None else sorted(set(customer_ids))
    if ids == []:
        return
    if ids is not None and len(ids) > 20_000:
        total = conn.execute(sa.select(sa.func.count()).select_from(table_of(Customer))).scalar()
        if len(ids) * 4 > (total or 0):
            ids = None
    days = _cadence_days(conn)
    for part in _parts(ids):
        for statement in _statements(conn.dialect.name, part, days):
            conn.execute(statement)


def _cadence_days(conn: Connection) -> Any:
    """The cadence of a customer, as SQL: their own, their segment's, or the default.

    The few cadences are written into the statement as a CASE, not looked up per row.
    """
    customers = table_of(Customer)
    known = _cadences(conn)
    default = known.pop(DEFAULT_SEGMENT, DEFAULT_CADENCE_DAYS)
    by_segment: Any = sa.literal(default)
    if known:
        by_segment = sa.case(
            *((customers.c.segment == seg, sa.literal(days)) for seg, days in known.items()),
            else_=sa.literal(default),
        )
    return sa.func.coalesce(customers.c.cadence_days, by_segment)


def _cadences(conn: Connection) -> dict[str, int]:
    cadences = table_of(Cadence)
    return {seg: days for seg, days in conn.execute(sa.select(cadences.c.segment, cadences.c.days))}


def default_cadence_days(conn: Connection) -> int:
    """The cadence of a customer with no segment and no cadence of their own."""
    return int(_cadences(conn).get(DEFAULT_SEGMENT, DEFAULT_CADENCE_DAYS))


def _parts(ids: list[int] | None) -> list[list[int] | None]:
    if ids is None:
        return [None]
    return [ids[i : i + 20_000] for i in range(0, len(ids), 20_000)]


def _statements(dialect: str, ids: list[int] | None, days: Any) -> list[sa.Update]:
    customers = table_of(Customer)
    orders = table_of(Order)
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
    base = sa.func.coalesce(
        customers.c.last_contact_at, customers.c.first_seen, customers.c.created_at
    )
    where = [] if ids is None else [customers.c.id.in_(ids)]
    unchanged = {"updated_at": customers.c.updated_at}  # derived, not edited: no onupdate
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
            **unchanged,
        ),
        # the last interaction, and our last outbound one
        sa.update(customers)
        .where(customers.c.id == contact.c.customer_id)
        .values(last_contact_at=contact.c.last, last_outbound_at=contact.c.out, **unchanged),
        sa.update(customers)
        .where(*where)
        .values(
            birthday_md=month_day(dialect, customers.c.birthday),
            anniversary_md=month_day(dialect, customers.c.first_seen),
            next_check_in_at=plus_days(dialect, base, days),
            **unchanged,
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
