"""Tables of the cases concept."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from keepwell import clock
from keepwell.tables import Base, UTCDateTime, one_of

Severity = Literal["low", "normal", "high", "urgent"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
Status = Literal["open", "resolved", "confirmed"]
STATUSES: tuple[Status, ...] = get_args(Status)
RootCause = Literal["product", "delivery", "billing", "service", "communication", "other"]
ROOT_CAUSES: tuple[RootCause, ...] = get_args(RootCause)


class Case(Base):
    """A problem a customer raised: opened, answered, resolved, confirmed with them."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(  # who handles it
        sa.ForeignKey("team_members.id", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(sa.String(300))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    severity: Mapped[str] = mapped_column(sa.String(10), default="normal")
    status: Mapped[str] = mapped_column(sa.String(10), default="open")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    root_cause_category: Mapped[str | None] = mapped_column(sa.String(20))
    root_cause: Mapped[str] = mapped_column(sa.Text, default="")
    prevention: Mapped[str] = mapped_column(sa.Text, default="")  # what changed so it won't recur
    resolution: Mapped[str] = mapped_column(sa.Text, default="")
    reopened_count: Mapped[int] = mapped_column(default=0)
    last_reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(default=1)

    __table_args__ = (
        sa.Index("ix_cases_member_id_status", "member_id", "status"),
        sa.Index("ix_cases_customer_id", "customer_id"),
        sa.CheckConstraint(one_of("severity", SEVERITIES), name="severity"),
        sa.CheckConstraint(one_of("status", STATUSES), name="status"),
    )
    __mapper_args__: dict[str, Any] = {"version_id_col": version}  # noqa: RUF012
