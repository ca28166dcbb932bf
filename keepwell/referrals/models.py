"""Tables of referrals: codes, links between customers, rewards."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from keepwell import clock
from keepwell.tables import Base, UTCDateTime, one_of

RewardStatus = Literal["pending", "earned", "given"]
REWARD_STATUSES: tuple[RewardStatus, ...] = get_args(RewardStatus)
Source = Literal["api", "cli", "import", "demo"]
SOURCES: tuple[Source, ...] = get_args(Source)


class ReferralCode(Base):
    """A customer's referral code, to hand on to friends (one per customer)."""

    __tablename__ = "referral_codes"

    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class Referral(Base):
    """`customer_id` came to us through `referrer_id` (a customer has one referrer at most)."""

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(  # the referred customer
        sa.ForeignKey("customers.id", ondelete="CASCADE"), unique=True
    )
    referrer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(sa.String(16), default="")  # the code used, if one was
    source: Mapped[str] = mapped_column(sa.String(10), default="api")
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    linked_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("team_members.id", ondelete="SET NULL")
    )
    note: Mapped[str] = mapped_column(sa.Text, default="")

    __table_args__ = (
        sa.CheckConstraint("customer_id <> referrer_id", name="not_self"),
        sa.CheckConstraint(one_of("source", SOURCES), name="source"),
    )


class ReferralReward(Base):
    """The referrer's reward for one referral: pending until the referred customer first
    buys, then earned, then given (by a member, with a note)."""

    __tablename__ = "referral_rewards"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(
        sa.ForeignKey("referrals.id", ondelete="CASCADE"), unique=True
    )
    customer_id: Mapped[int] = mapped_column(  # the referrer, who gets it
        sa.ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    what: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(sa.String(10), default="pending")
    earned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    given_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    given_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("team_members.id", ondelete="SET NULL")
    )
    note: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    version: Mapped[int] = mapped_column(default=1)

    __table_args__ = (
        sa.Index("ix_referral_rewards_status", "status"),
        sa.CheckConstraint(one_of("status", REWARD_STATUSES), name="status"),
    )
    __mapper_args__: dict[str, Any] = {"version_id_col": version}  # noqa: RUF012
