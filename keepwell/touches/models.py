"""Tables of the touches concept."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from keepwell import clock
from keepwell.tables import Base, UTCDateTime

CHANNELS = ("call", "email", "meeting", "chat", "note", "social", "letter", "gift")
DIRECTIONS = ("inbound", "outbound")
SENTIMENTS = ("positive", "neutral", "negative")


class Touch(Base):
    """One interaction with a customer, inbound or outbound, and what was said."""

    __tablename__ = "touches"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("team_members.id", ondelete="SET NULL")
    )
    channel: Mapped[str] = mapped_column(sa.String(20))
    direction: Mapped[str] = mapped_column(sa.String(10), default="outbound")
    happened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    sentiment: Mapped[str | None] = mapped_column(sa.String(10))
    # What the touch was about, when it belongs to a promise, case or task.
    promise_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("promises.id", ondelete="SET NULL")
    )
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    __table_args__ = (
        sa.Index("ix_touches_customer_id_happened_at", "customer_id", "happened_at"),
        sa.CheckConstraint(
            "channel IN ('call', 'email', 'meeting', 'chat', 'note', 'social', 'letter', 'gift')",
            name="channel",
        ),
        sa.CheckConstraint("direction IN ('inbound', 'outbound')", name="direction"),
        sa.CheckConstraint(
            "sentiment IS NULL OR sentiment IN ('positive', 'neutral', 'negative')",
            name="sentiment",
        ),
    )
