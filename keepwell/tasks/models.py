"""Tables of the tasks concept."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal, get_args

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from keepwell import clock
from keepwell.tables import Base, UTCDateTime, one_of

Status = Literal["open", "done", "cancelled"]
STATUSES: tuple[Status, ...] = get_args(Status)


class Task(Base):
    """Something to do for a customer: the reason says why now, the context how to be personal.

    `dedupe_key` names the reason (e.g. "confirm-case:12"): the same reason for the same
    customer is never a second task.
    """

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("team_members.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(sa.String(40))
    due_on: Mapped[date] = mapped_column(sa.Date)
    reason: Mapped[str] = mapped_column(sa.Text)
    context: Mapped[str] = mapped_column(sa.Text, default="")
    source: Mapped[str] = mapped_column(sa.String(100), default="person")
    dedupe_key: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(sa.String(10), default="open")
    snoozed_until: Mapped[date | None] = mapped_column(sa.Date)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(sa.Text, default="")
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    version: Mapped[int] = mapped_column(default=1)

    __table_args__ = (
        sa.UniqueConstraint("customer_id", "dedupe_key"),
        sa.Index("ix_tasks_member_id_status_due_on", "member_id", "status", "due_on"),
        sa.CheckConstraint(one_of("status", STATUSES), name="status"),
    )
    __mapper_args__: dict[str, Any] = {"version_id_col": version}  # noqa: RUF012
