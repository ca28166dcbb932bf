"""Tables of goals and account reviews."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal, get_args

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from keepwell import clock
from keepwell.tables import Base, UTCDateTime, one_of

GoalStatus = Literal["open", "met", "missed", "dropped"]
GOAL_STATUSES: tuple[GoalStatus, ...] = get_args(GoalStatus)
ReviewStatus = Literal["due", "done", "cancelled"]
REVIEW_STATUSES: tuple[ReviewStatus, ...] = get_args(ReviewStatus)
ReviewKind = Literal["periodic", "on_demand"]
REVIEW_KINDS: tuple[ReviewKind, ...] = get_args(ReviewKind)
Answer = Literal["yes", "no", "partly"]
ANSWERS: tuple[Answer, ...] = get_args(Answer)


class Goal(Base):
    """Something the customer wants to achieve with us, agreed with them, by a date."""

    __tablename__ = "goals"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(  # who agreed it with the customer
        sa.ForeignKey("team_members.id", ondelete="SET NULL")
    )
    what: Mapped[str] = mapped_column(sa.Text)
    agreed_on: Mapped[date] = mapped_column(sa.Date)
    target_on: Mapped[date | None] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(10), default="open")
    closed_on: Mapped[date | None] = mapped_column(sa.Date)  # met, missed or dropped on
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=clock.now, onupdate=clock.now
    )
    version: Mapped[int] = mapped_column(default=1)

    __table_args__ = (
        sa.Index("ix_goals_customer_id_status", "customer_id", "status"),
        sa.CheckConstraint(one_of("status", GOAL_STATUSES), name="status"),
    )
    __mapper_args__: dict[str, Any] = {"version_id_col": version}  # noqa: RUF012


class ReviewQuestion(Base):
    """A question an admin added to every account review's checklist."""

    __tablename__ = "review_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(sa.String(500))
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)  # order on the checklist, after built-ins
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class AccountReview(Base):
    """One account review of a customer: due on a day, done with its answers.

    `open_customer_id` is the customer's id while the review is due and NULL after: its
    unique constraint keeps one open review per customer, whoever schedules it.
    The counts and goals are taken when the review is done (for the health score).
    """

    __tablename__ = "account_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(  # who is to do it (the owner)
        sa.ForeignKey("team_members.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(sa.String(10), default="periodic")
    due_on: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(10), default="due")
    open_customer_id: Mapped[int | None] = mapped_column(unique=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("team_members.id", ondelete="SET NULL")
    )
    note: Mapped[str] = mapped_column(sa.Text, default="")
    answered: Mapped[int] = mapped_column(default=0)
    yes: Mapped[int] = mapped_column(default=0)
    partly: Mapped[int] = mapped_column(default=0)
    goals_met: Mapped[int] = mapped_column(default=0)
    goals_total: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    version: Mapped[int] = mapped_column(default=1)

    __table_args__ = (
        # the agenda: one member's due reviews, soonest first
        sa.Index("ix_account_reviews_member_id_status_due_on", "member_id", "status", "due_on"),
        # the latest done review of a customer (health score)
        sa.Index("ix_account_reviews_customer_id_completed_at", "customer_id", "completed_at"),
        sa.CheckConstraint(one_of("status", REVIEW_STATUSES), name="status"),
        sa.CheckConstraint(one_of("kind", REVIEW_KINDS), name="kind"),
    )
    __mapper_args__: dict[str, Any] = {"version_id_col": version}  # noqa: RUF012


class ReviewAnswer(Base):
    """One checklist answer of a review: yes, no or partly, a note, when and by whom.

    `question` is a built-in key ("on_time") or "q:ID" for an admin's question; its text
    is kept as it was asked.
    """

    __tablename__ = "review_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("account_reviews.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    question: Mapped[str] = mapped_column(sa.String(40))
    question_text: Mapped[str] = mapped_column(sa.String(500))
    answer: Mapped[str] = mapped_column(sa.String(10))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    answered_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("team_members.id", ondelete="SET NULL")
    )

    __table_args__ = (
        sa.UniqueConstraint("review_id", "question"),
        sa.CheckConstraint(one_of("answer", ANSWERS), name="answer"),
    )
