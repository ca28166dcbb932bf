"""Tables of the orders concept."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from keepwell import clock
from keepwell.tables import Base, UTCDateTime

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class Order(Base):
    """One purchase. Money is integer minor units (cents) with its currency."""

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # The source's order id, or a deterministic key derived from the row when it has none.
    external_id: Mapped[str] = mapped_column(sa.String(200), unique=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"))
    ordered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    quantity: Mapped[int] = mapped_column(default=1)
    product: Mapped[str | None] = mapped_column(sa.String(300))
    description: Mapped[str | None] = mapped_column(sa.Text)
    import_id: Mapped[int | None] = mapped_column(sa.ForeignKey("imports.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    __table_args__ = (
        # a customer's orders in time order, with amounts: per-customer totals read the
        # index alone (counts, revenue, first and last order, the scoring summary)
        sa.Index("ix_orders_customer_timeline", "customer_id", "ordered_at", "amount_minor"),
        sa.CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
        sa.CheckConstraint("quantity >= 0", name="quantity_not_negative"),
    )
