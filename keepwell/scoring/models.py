"""The `scores` table: one row per customer per scoring date, so trends can be drawn."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal, get_args

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from keepwell import clock
from keepwell.orders.models import BigId
from keepwell.tables import Base, UTCDateTime, one_of

Stage = Literal["onboarding", "adopting", "repeat", "advocate", "at_risk", "lapsed", "prospect"]
STAGES: tuple[Stage, ...] = get_args(Stage)


class Score(Base):
    """What the scoring job concluded about one customer on one day.

    Money is integer minor units (rounded expectations). `p_alive` and the expected
    purchases are None for customers who have not bought yet (nothing to model).
    """

    __tablename__ = "scores"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    scored_on: Mapped[date] = mapped_column(sa.Date)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    model: Mapped[str] = mapped_column(sa.String(20))  # bgnbd | pareto
    # the purchase model: chance still a customer, purchases expected in the next 90 days
    p_alive: Mapped[float | None] = mapped_column(sa.Float)
    expected_purchases_90d: Mapped[float | None] = mapped_column(sa.Float)
    # Gamma-Gamma: expected value of one purchase; 12-month discounted lifetime value
    predicted_value_minor: Mapped[int | None] = mapped_column(sa.BigInteger)
    clv_minor: Mapped[int | None] = mapped_column(sa.BigInteger)
    # expected value lost in the next 90 days against the customer's own usual pace
    risk_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    rfm_r: Mapped[int | None] = mapped_column(sa.SmallInteger)  # 1..5, 5 best
    rfm_f: Mapped[int | None] = mapped_column(sa.SmallInteger)
    rfm_m: Mapped[int | None] = mapped_column(sa.SmallInteger)
    rfm_segment: Mapped[str | None] = mapped_column(sa.String(30))
    health: Mapped[int] = mapped_column(sa.SmallInteger)  # 0..100
    stage: Mapped[str] = mapped_column(sa.String(20))
    explanation: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    __table_args__ = (
        # one row per customer and day; a customer's history in date order
        sa.UniqueConstraint("scored_on", "customer_id"),
        sa.Index("ix_scores_customer_id_scored_on", "customer_id", "scored_on"),
        # the customers list filtered by stage, or by health, or sorted by health
        sa.Index("ix_scores_scored_on_stage_customer_id", "scored_on", "stage", "customer_id"),
        sa.Index("ix_scores_scored_on_health_customer_id", "scored_on", "health", "customer_id"),
        sa.CheckConstraint("health >= 0 AND health <= 100", name="health_range"),
        sa.CheckConstraint(one_of("stage", STAGES), name="stage"),
    )
