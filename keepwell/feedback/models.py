"""Tables of the feedback concept: survey invitations, answers (feedback), and the
actions taken on them, linked many to many."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from keepwell import clock
from keepwell.orders.models import BigId
from keepwell.tables import Base, UTCDateTime, one_of

# What a customer can be asked (by link or by phone).
SurveyKind = Literal["nps", "csat", "scorecard"]
SURVEY_KINDS: tuple[SurveyKind, ...] = get_args(SurveyKind)
# Feedback also holds our own rating of the relationship with a customer.
Kind = Literal["nps", "csat", "scorecard", "relationship"]
KINDS: tuple[Kind, ...] = get_args(Kind)
Source = Literal["survey", "manual", "import"]
SOURCES: tuple[Source, ...] = get_args(Source)
# A scorecard: the customer rates us on theirs, we rate the relationship on ours, 1-5 each.
CUSTOMER_CATEGORIES: dict[str, str] = {
    "quality": "Quality of what we deliver",
    "delivery": "Delivery on time",
    "responsiveness": "Responsiveness",
    "value": "Value for money",
}
OUR_CATEGORIES: dict[str, str] = {
    "communication": "Clear, timely communication",
    "pays_on_time": "Pays on time",
    "predictability": "Predictable orders and forecasts",
    "partnership": "Works with us as a partner",
}
SCORE_RANGES: dict[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5)}
RATING_RANGE = (1, 5)


class SurveyInvitation(Base):
    """A survey sent to one customer: the link's token names this row, signed.

    Used once: `used_at` is set in the transaction that stores the answer.
    """

    __tablename__ = "survey_invitations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(12))
    # What it asks about, when it follows a case or a delivery.
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id", ondelete="SET NULL"))
    order_id: Mapped[int | None] = mapped_column(
        BigId, sa.ForeignKey("orders.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("team_members.id", ondelete="SET NULL")
    )

    __table_args__ = (
        sa.Index("ix_survey_invitations_customer_id_created_at", "customer_id", "created_at"),
        sa.CheckConstraint(one_of("kind", SURVEY_KINDS), name="kind"),
    )


class Feedback(Base):
    """One answer: an NPS or CSAT score, a scorecard, or our rating of the relationship.

    `verbatim` is the customer's own words. The loop is closed when the customer was
    told what we did about it (`told_at`, how, by whom, the interaction logged).
    """

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(12))
    score: Mapped[int | None] = mapped_column(sa.SmallInteger)  # nps 0-10, csat 1-5
    ratings: Mapped[dict[str, int] | None] = mapped_column(sa.JSON)  # category -> 1-5
    verbatim: Mapped[str] = mapped_column(sa.Text, default="")
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(sa.String(10), default="survey")
    invitation_id: Mapped[int | None] = mapped_column(
        BigId, sa.ForeignKey("survey_invitations.id", ondelete="SET NULL"), unique=True
    )
    member_id: Mapped[int | None] = mapped_column(  # who recorded it (by hand, or ours)
        sa.ForeignKey("team_members.id", ondelete="SET NULL")
    )
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id", ondelete="SET NULL"))
    order_id: Mapped[int | None] = mapped_column(
        BigId, sa.ForeignKey("orders.id", ondelete="SET NULL")
    )
    # the loop: the customer was told what we did
    told_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    told_channel: Mapped[str | None] = mapped_column(sa.String(20))
    told_note: Mapped[str] = mapped_column(sa.Text, default="")
    told_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("team_members.id", ondelete="SET NULL")
    )
    told_touch_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("touches.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    version: Mapped[int] = mapped_column(default=1)

    __table_args__ = (
        sa.Index("ix_feedback_customer_id_answered_at", "customer_id", "answered_at"),
        sa.Index("ix_feedback_answered_at", "answered_at"),
        sa.CheckConstraint(one_of("kind", KINDS), name="kind"),
        sa.CheckConstraint(one_of("source", SOURCES), name="source"),
        sa.CheckConstraint(
            "(kind = 'nps' AND score >= 0 AND score <= 10)"
            " OR (kind = 'csat' AND score >= 1 AND score <= 5)"
            " OR (kind IN ('scorecard', 'relationship') AND score IS NULL)",
            name="score_range",
        ),
    )
    __mapper_args__: dict[str, Any] = {"version_id_col": version}  # noqa: RUF012

    @property
    def loop_closed(self) -> bool:
        return self.told_at is not None

    def timeline_text(self) -> str:
        """One line for the customer's timeline: the answer, their words, the loop."""
        if self.score is not None:
            what = f"{self.kind.upper()} {self.score}/{SCORE_RANGES[self.kind][1]}"
        else:
            ratings = ", ".join(f"{k} {v}" for k, v in (self.ratings or {}).items())
            side = "Our scorecard" if self.kind == "relationship" else "Scorecard"
            what = f"{side} ({ratings})"
        words = f": “{self.verbatim}”" if self.verbatim else ""
        return f"{what}{words} — loop {'closed' if self.told_at else 'open'}"


class FeedbackAction(Base):
    """Something we did because of feedback ("changed our courier"); closing it tells
    every customer whose feedback is linked to it."""

    __tablename__ = "feedback_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    what: Mapped[str] = mapped_column(sa.Text)
    member_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("team_members.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__: dict[str, Any] = {"version_id_col": version}  # noqa: RUF012


class FeedbackActionLink(Base):
    """Feedback an action answers (many to many)."""

    __tablename__ = "feedback_action_links"

    action_id: Mapped[int] = mapped_column(
        sa.ForeignKey("feedback_actions.id", ondelete="CASCADE"), primary_key=True
    )
    feedback_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("feedback.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
