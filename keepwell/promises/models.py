"""Tables of the promises concept."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from keepwell import clock
from keepwell.tables import Base, UTCDateTime, one_of

Status = Literal["open", "kept", "kept_late", "broken", "cancelled"]
STATUSES: tuple[Status, ...] = get_args(Status)


class Promise(Base):
    """Something promised to a customer, by a member, due at a time."""

    __tablename__ = "promises"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(  # who made it and must keep it
        sa.ForeignKey("team_members.id", ondelete="SET NULL")
    )
    what: Mapped[str] = mapped_column(sa.Text)
    made_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    original_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(sa.String(10), default="open")
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(sa.Text, default="")
    slips: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=1)

    __table_args__ = (
        sa.Index("ix_promises_member_id_status_due_at", "member_id", "status", "due_at"),
        sa.Index("ix_promises_customer_id", "customer_id"),
        sa.CheckConstraint(one_of("status", STATUSES), name="status"),
    )
    __mapper_args__: dict[str, Any] = {"version_id_col": version}  # noqa: RUF012


class PromiseUpdate(Base):
    """A progress update on an open promise; `new_due_at` set when it moved (a slip)."""

    __tablename__ = "promise_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    promise_id: Mapped[int] = mapped_column(
        sa.ForeignKey("promises.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    old_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    new_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    touch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("touches.id", ondelete="SET NULL"))
