"""Orders one at a time or in small batches (the API); files go through keepwell/ingest.

Each batch is all or nothing, and the customers' derived columns (order count, revenue,
first and last order, next check-in) are brought up to date in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.customers import derived
from keepwell.customers.models import Customer
from keepwell.errors import InvalidInput, check_limit
from keepwell.orders.models import Order

MAX_BATCH = 1000
MAX_AMOUNT_MINOR = 1_000_000_000_000  # ten billion in major units, as the import allows
MAX_QUANTITY = 1_000_000
MAX_LIMIT = 500
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)


@dataclass(frozen=True)
class NewOrder:
    """One order to record. `external_id` is the source's order id (made up when None)."""

    customer_id: int
    ordered_at: datetime
    amount_minor: int
    currency: str
    quantity: int = 1
    product: str | None = None
    description: str | None = None
    external_id: str | None = None


def create_orders(session: Session, orders: Sequence[NewOrder]) -> list[Order]:
    """Record `orders` (at most MAX_BATCH): all of them, or none when one is refused.

    A refused value is named `orders.N.field` (N from 0) when there are several.
    """
    from keepwell.ingest.parsing import CellError, parse_currency

    if not orders:
        raise InvalidInput("orders", "give at least one order")
    if len(orders) > MAX_BATCH:
        raise InvalidInput("orders", f"at most {MAX_BATCH:,} orders at once, not {len(orders):,}")

    def prefix(i: int) -> str:
        return f"orders.{i}." if len(orders) > 1 else ""

    customer_ids = {o.customer_id for o in orders}
    known = set(session.scalars(sa.select(Customer.id).where(Customer.id.in_(customer_ids))))
    external_ids = [o.external_id for o in orders if o.external_id is not None]
    taken = set(
        session.scalars(sa.select(Order.external_id).where(Order.external_id.in_(external_ids)))
        if external_ids
        else []
    )
    now = clock.now()
    seen: set[str] = set()
    rows: list[Order] = []
    for i, new in enumerate(orders):
        where = prefix(i)
        if new.customer_id not in known:
            raise InvalidInput(f"{where}customer_id", f"no customer #{new.customer_id}")
        if new.ordered_at.tzinfo is None:
            raise InvalidInput(f"{where}ordered_at", "give a time zone (or UTC)")
        if new.ordered_at > now + FUTURE_SLACK or new.ordered_at < EARLIEST:
            raise InvalidInput(f"{where}ordered_at", "an order is from 1900 up to today")
        if not 0 <= new.amount_minor <= MAX_AMOUNT_MINOR:
            raise InvalidInput(f"{where}amount_minor", f"0 to {MAX_AMOUNT_MINOR:,} minor units")
        if not 0 <= new.quantity <= MAX_QUANTITY:
            raise InvalidInput(f"{where}quantity", f"0 to {MAX_QUANTITY:,}")
        try:
            currency = parse_currency(new.currency)
        except CellError as exc:
            raise InvalidInput(f"{where}currency", str(exc)) from None
        external_id = (new.external_id or "").strip() or f"api:{uuid.uuid4().hex}"
        if len(external_id) > 200:
            raise InvalidInput(f"{where}external_id", "longer than 200 characters")
        if external_id in taken or external_id in seen:
            raise InvalidInput(f"{where}external_id", f"order {external_id!r} exists already")
        seen.add(external_id)
        for name, text, limit in (
            ("product", new.product, 300),
            ("description", new.description, 20_000),
        ):
            if text is not None and len(text) > limit:
                raise InvalidInput(f"{where}{name}", f"longer than {limit:,} characters")
        rows.append(
            Order(
                external_id=external_id,
                customer_id=new.customer_id,
                ordered_at=new.ordered_at,
                amount_minor=new.amount_minor,
                currency=currency,
                quantity=new.quantity,
                product=(new.product or "").strip() or None,
                description=(new.description or "").strip() or None,
                created_at=now,
            )
        )
    session.add_all(rows)
    session.flush()
    derived.refresh(session.connection(), customer_ids)
    for customer_id in customer_ids:  # the rows changed under the ORM: read them anew
        customer = session.get(Customer, customer_id)
        if customer is not None:
            session.expire(customer)
    return rows


@dataclass(frozen=True)
class OrderFilter:
    """One definition of a customer's orders list: newest first; `before` keeps the
    orders placed before that moment (to page back in time)."""

    customer_id: int
    before: datetime | None = None
    limit: int = 50

    def __post_init__(self) -> None:
        check_limit(self.limit, MAX_LIMIT)

    def query(self) -> sa.Select[Order]:
        q = sa.select(Order).where(Order.customer_id == self.customer_id)
        if self.before is not None:
            q = q.where(Order.ordered_at < self.before)
        return q.order_by(Order.ordered_at.desc(), Order.id.desc()).limit(self.limit)


def list_orders(session: Session, filters: OrderFilter) -> list[Order]:
    return list(session.scalars(filters.query()))
