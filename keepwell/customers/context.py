"""What to mention to be personal with a customer: one short paragraph, from the records."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.customers.models import Customer
from keepwell.orders.models import Order
from keepwell.touches.models import Touch


def personal_context(session: Session, customer: Customer, *, limit: int = 400) -> str:
    """The last conversation, personal notes, cultural notes and the last purchase.

    For example: "Last spoke 12 days ago (call): asked about the new grinder. Notes: two
    kids, loves trail running. Last bought 2026-10-02: Grinder Pro (89.00 EUR)."
    """
    parts: list[str] = []
    last = session.scalars(
        sa.select(Touch)
        .where(Touch.customer_id == customer.id)
        .order_by(Touch.happened_at.desc(), Touch.id.desc())
        .limit(1)
    ).first()
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
    order = session.scalars(
        sa.select(Order)
        .where(Order.customer_id == customer.id)
        .order_by(Order.ordered_at.desc(), Order.id.desc())
        .limit(1)
    ).first()
    if order is not None:
        what = f": {order.product}" if order.product else ""
        amount = f"{order.amount_minor / 100:,.2f} {order.currency}"
        parts.append(f"Last bought {order.ordered_at.date().isoformat()}{what} ({amount}).")
    return _short(" ".join(parts), limit)


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split()).rstrip(".")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
