"""Tables of loyalty: each customer's points and tier, and every change of tier."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from keepwell import clock
from keepwell.orders.models import BigId
from keepwell.tables import Base, UTCDateTime


class LoyaltyStatus(Base):
    """A customer's points and tier as of the last refresh (customers with purchases in
    the window only)."""

    __tablename__ = "loyalty_status"

    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    points: Mapped[int] = mapped_column(sa.BigInteger)
    tier: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    tier_since: Mapped[date] = mapped_column(sa.Date)
    updated_on: Mapped[date] = mapped_column(sa.Date)  # last refresh that changed the row


class TierChange(Base):
    """A customer reached a tier (or left one: `to_tier` None) on a refresh: what
    playbooks act on ("reached Gold: send a note")."""

    __tablename__ = "loyalty_tier_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    from_tier: Mapped[str | None] = mapped_column(sa.String(40))
    to_tier: Mapped[str | None] = mapped_column(sa.String(40))
    points: Mapped[int] = mapped_column(sa.BigInteger)
    reached_on: Mapped[date] = mapped_column(sa.Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now, index=True)
