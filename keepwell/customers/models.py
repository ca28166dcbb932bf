"""Tables of the customers concept."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from keepwell import clock
from keepwell.db import Base, UTCDateTime

CHANNELS = ("email", "phone", "sms", "post", "in_person", "chat", "social")


class Customer(Base):
    """A customer: profile, owner, personal details worth remembering, consent."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    name: Mapped[str] = mapped_column(sa.String(300), default="")
    email: Mapped[str | None] = mapped_column(sa.String(320), index=True)
    phone: Mapped[str | None] = mapped_column(sa.String(64))
    company: Mapped[str | None] = mapped_column(sa.String(300))
    segment: Mapped[str | None] = mapped_column(sa.String(100), index=True)
    tags: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("team_members.id", ondelete="SET NULL"), index=True
    )
    first_seen: Mapped[datetime | None] = mapped_column(UTCDateTime())
    personal_notes: Mapped[str | None] = mapped_column(sa.Text)
    preferred_channel: Mapped[str | None] = mapped_column(sa.String(20))
    language: Mapped[str | None] = mapped_column(sa.String(35))
    cultural_notes: Mapped[str | None] = mapped_column(sa.Text)
    birthday: Mapped[date | None] = mapped_column(sa.Date)
    marketing_consent: Mapped[bool] = mapped_column(default=False)
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=clock.now, onupdate=clock.now
    )
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it once


class SpecialDate(Base):
    """A date worth marking with a customer: an anniversary, a renewal, a founding day."""

    __tablename__ = "special_dates"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(40))
    label: Mapped[str] = mapped_column(sa.String(200), default="")
    on_date: Mapped[date] = mapped_column(sa.Date)
    yearly: Mapped[bool] = mapped_column(default=True)
