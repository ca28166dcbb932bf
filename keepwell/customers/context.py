"""What to mention to be personal with a customer: one short paragraph, from the records."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.customers.models import Customer
from keepwell.orders.models import Order
from keepwell.touches.models import Touch


def contexts_for(
    session: Session, customers: list[Customer], *, limit: int = 400
) -> dict[int, str]:
    """`personal_context` for many customers in three queries (for lists and the agenda)."""
    ids = sorted({c.id for c in customers})
    if not ids:
        return {}
    last_touch = _newest(session, Touch, Touch.happened_at, ids)
    last_order = _newest(session, Order, Order.ordered_at, ids)
    return {c.id: _compose(c, last_touch.get(c.id), last_order.get(c.id), limit) for c in customers}


def _newest(session: Session, model: type[Touch] | type[Order], column: Any, ids: list[int]) -> Any:
    """Each customer's newest row of `model`: one windowed query over the index."""
    rank = (
        sa.func.row_number()
        .over(partition_by=model.customer_id, order_by=(column.desc(), model.id.desc()))
        .label("rank")
    )
    inner = sa.select(model.id, rank).where(model.customer_id.in_(ids)).subquery()
    newest = sa.select(model).join(inner, inner.c.id == model.id).where(inner.c.rank == 1)
    rows: list[Any] = list(session.scalars(newest))
    return {row.customer_id: row for row in rows}


def personal_context(session: Session, customer: Customer, *, limit: int = 400) -> str:
    """The last conversation, personal notes, cultural notes and the last purchase.

    For example: "Last spoke 12 days ago (call): asked about the new grinder. Notes: two
    kids, loves trail running. Last bought 2026-10-02: Grinder Pro (89.00 EUR)."
    """
    last = session.scalars(
        sa.select(Touch)
        .where(Touch.customer_id == customer.id)
        .order_by(Touch.happened_at.desc(), Touch.id.desc())
        .limit(1)
    ).first()
    order = session.scalars(
        sa.select(Order)
        .where(Order.customer_id == customer.id)
        .order_by(Order.ordered_at.desc(), Order.id.desc())
        .limit(1)
    ).first()
    return _compose(customer, last, order, limit)


def _compose(customer: Customer, last: Touch | None, order: Order | None, limit: int) -> str:
    parts: list[str] = []
    if last is not None:
        days = (clock.now() - last.happened_at).days
        when = "today" if days <= 0 else "yesterday" if days == 1 else f"{days} days ago"
        said = f": {_short(last.summary, 120)}" if last.summary else ""
        parts.append(f"Last spoke {when} ({last.channel}){said}.")
    else:
        parts.append("No conversation logged yet.")
    if customer.personal_notes:
        parts.append(f"Notes: {_short(customer.personal_notes, 160)}.")
    if customer.cultural_notes:
        parts.append(f"Culture: {_short(customer.cultural_notes, 120)}.")
    if order is not None:
        what = f": {order.product}" if order.product else ""
        amount = f"{order.amount_minor / 100:,.2f} {order.currency}"
        parts.append(f"Last bought {order.ordered_at.date().isoformat()}{what} ({amount}).")
    return _short(" ".join(parts), limit)


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split()).rstrip(".")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
