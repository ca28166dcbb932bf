"""Tables of the touches concept."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from keepwell import clock
from keepwell.tables import Base, UTCDateTime, one_of

Channel = Literal["call", "email", "meeting", "chat", "note", "social", "letter", "gift"]
CHANNELS: tuple[Channel, ...] = get_args(Channel)
Direction = Literal["inbound", "outbound"]
DIRECTIONS: tuple[Direction, ...] = get_args(Direction)
Sentiment = Literal["positive", "neutral", "negative"]
SENTIMENTS: tuple[Sentiment, ...] = get_args(Sentiment)


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
        sa.CheckConstraint(one_of("channel", CHANNELS), name="channel"),
        sa.CheckConstraint(one_of("direction", DIRECTIONS), name="direction"),
        sa.CheckConstraint(
            one_of("sentiment", SENTIMENTS, nullable=True),
            name="sentiment",
        ),
    )
