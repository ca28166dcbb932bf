"""A customer's goals, reviews, referral data and loyalty in a privacy export, and their
erasure (called by keepwell/customers/privacy.py; one place for issue 9's advocacy
tables: goals and reviews, referrals, loyalty)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from keepwell.loyalty.models import LoyaltyStatus, TierChange
from keepwell.referrals.models import Referral, ReferralCode, ReferralReward
from keepwell.reviews.models import AccountReview, Goal, ReviewAnswer

ERASED = "(erased)"


def _rows(session: Session, model: Any, *where: Any) -> list[dict[str, Any]]:
    columns = model.__table__.columns
    key = next(iter(model.__table__.primary_key.columns))
    found = session.scalars(sa.select(model).where(*where).order_by(key))
    return [{c.name: _plain(getattr(row, c.key)) for c in columns} for row in found]


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def export_advocacy(session: Session, customer_id: int) -> dict[str, Any]:
    cid = customer_id
    return {
        "goals": _rows(session, Goal, Goal.customer_id == cid),
        "account_reviews": _rows(session, AccountReview, AccountReview.customer_id == cid),
        "review_answers": _rows(session, ReviewAnswer, ReviewAnswer.customer_id == cid),
        "referral_code": _rows(session, ReferralCode, ReferralCode.customer_id == cid),
        "referrals": _rows(
            session,
            Referral,
            sa.or_(Referral.customer_id == cid, Referral.referrer_id == cid),
        ),
        "referral_rewards": _rows(session, ReferralReward, ReferralReward.customer_id == cid),
        "loyalty": _rows(session, LoyaltyStatus, LoyaltyStatus.customer_id == cid),
        "loyalty_tier_changes": _rows(session, TierChange, TierChange.customer_id == cid),
    }


def erase_advocacy(session: Session, customer_id: int) -> int:
    """Blank what was written about the customer (goals, review notes and answers,
    referral and reward notes), drop their code, their loyalty and their open review.
    That a referral happened stays, between anonymous records. Returns the rows changed."""
    cid = customer_id
    changed = 0

    def run(statement: Any) -> None:
        nonlocal changed
        changed += int(getattr(session.execute(statement), "rowcount", 0) or 0)

    run(sa.update(Goal).where(Goal.customer_id == cid).values(what=ERASED, notes=""))
    run(
        sa.update(AccountReview)
        .where(AccountReview.customer_id == cid, AccountReview.status == "due")
        .values(status="cancelled", open_customer_id=None)
    )
    run(sa.update(AccountReview).where(AccountReview.customer_id == cid).values(note=""))
    run(sa.update(ReviewAnswer).where(ReviewAnswer.customer_id == cid).values(note=""))
    run(
        sa.update(Referral)
        .where(sa.or_(Referral.customer_id == cid, Referral.referrer_id == cid))
        .values(note="", code="")
    )
    run(sa.update(ReferralReward).where(ReferralReward.customer_id == cid).values(note=""))
    run(sa.delete(ReferralCode).where(ReferralCode.customer_id == cid))
    run(sa.delete(LoyaltyStatus).where(LoyaltyStatus.customer_id == cid))
    run(sa.delete(TierChange).where(TierChange.customer_id == cid))
    return changed
