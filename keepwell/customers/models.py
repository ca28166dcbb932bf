"""Tables of the customers concept."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal, get_args

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from keepwell import clock
from keepwell.tables import Base, UTCDateTime

ContactChannel = Literal["email", "phone", "sms", "post", "in_person", "chat", "social"]
CHANNELS: tuple[ContactChannel, ...] = get_args(ContactChannel)


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
        sa.ForeignKey("team_members.id", ondelete="SET NULL")
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

    # Check-in cadence: this customer's own, else their segment's (see Cadence).
    cadence_days: Mapped[int | None] = mapped_column()
    # Kept by the services that change them, so the agenda reads one indexed row:
    last_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # any touch
    last_outbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # our check-ins
    next_check_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    order_count: Mapped[int] = mapped_column(default=0)
    revenue_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    last_order_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    birthday_md: Mapped[int | None] = mapped_column()  # month * 100 + day, for "coming up"
    anniversary_md: Mapped[int | None] = mapped_column()  # of first_seen

    __table_args__ = (
        sa.Index("ix_customers_owner_id_next_check_in_at", "owner_id", "next_check_in_at"),
        sa.Index("ix_customers_owner_id_birthday_md", "owner_id", "birthday_md"),
        sa.Index("ix_customers_owner_id_anniversary_md", "owner_id", "anniversary_md"),
        # the customers list's sorts (keepwell/customers/service.py CustomerFilter)
        sa.Index("ix_customers_name_id", "name", "id"),
        sa.Index("ix_customers_revenue_minor_id", "revenue_minor", "id"),
        sa.Index("ix_customers_last_order_at_id", "last_order_at", "id"),
    )
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it once


class Cadence(Base):
    """How often customers of a segment should hear from us (days between check-ins).

    The row with segment "*" is the default for every segment without its own.
    """

    __tablename__ = "cadences"

    segment: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    days: Mapped[int] = mapped_column()

    __table_args__ = (sa.CheckConstraint("days > 0 AND days <= 3660", name="days_range"),)


class OwnerChange(Base):
    """A customer's point person changed: who, from whom, to whom, when, by whom."""

    __tablename__ = "owner_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    from_member_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("team_members.id", ondelete="SET NULL")
    )
    to_member_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("team_members.id", ondelete="SET NULL")
    )
    changed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("team_members.id", ondelete="SET NULL")
    )
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    reason: Mapped[str] = mapped_column(sa.Text, default="")


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
    on_md: Mapped[int] = mapped_column(index=True)  # month * 100 + day
    gesture: Mapped[str] = mapped_column(sa.String(200), default="")  # e.g. "a card"
