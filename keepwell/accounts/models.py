"""Tables of the accounts concept."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from keepwell import clock
from keepwell.db import Base, UTCDateTime

ROLES = ("admin", "member", "viewer")


class TeamMember(Base):
    """A person on the team: owner of customers, doer of tasks."""

    __tablename__ = "team_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    role: Mapped[str] = mapped_column(sa.String(20), default="member")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    __table_args__ = (sa.CheckConstraint("role IN ('admin', 'member', 'viewer')", name="role"),)
