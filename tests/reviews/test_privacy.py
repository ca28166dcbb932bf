"""A privacy export holds a customer's goals, reviews, referral data and loyalty; an
erasure blanks what was written about them and drops their code, loyalty and open review."""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keepwell import clock, db
from keepwell.customers.models import Customer
from keepwell.customers.privacy import erase_customer, export_customer
from keepwell.loyalty.models import LoyaltyStatus, TierChange
from keepwell.loyalty.service import refresh
from keepwell.orders.models import Order
from keepwell.referrals.models import Referral, ReferralCode, ReferralReward
from keepwell.referrals.service import code_of, link_referral
from keepwell.reviews.goals import add_goal
from keepwell.reviews.models import AccountReview, Goal, ReviewAnswer
from keepwell.reviews.service import AnswerIn, answer_review, start_review
from tests.reviews.conftest import NOW, make_world

SECRET = "their daughter's wedding in May"


def test_export_and_erase_cover_goals_reviews_referrals_and_loyalty(engine: Engine) -> None:
    w = make_world(engine)
    with clock.frozen(NOW), db.transaction(engine) as session:
        vera, rui = session.get(Customer, w.vera), session.get(Customer, w.rui)
        assert vera is not None and rui is not None
        add_goal(session, vera, what=f"Cater {SECRET}", notes=SECRET)
        review = start_review(session, vera)
        answer_review(session, review, [AnswerIn("worked", "yes", SECRET)], member=None)
        code_of(session, vera)
        link_referral(session, rui, referrer=vera, note=f"Rui heard of us at {SECRET}")
        session.add(
            Order(
                external_id="o1", customer_id=w.vera, ordered_at=NOW, amount_minor=200_000,
                currency="EUR",
            )
        )  # fmt: skip
        session.flush()
        refresh(session.connection(), NOW.date())
        exported = export_customer(session, vera)
    text = json.dumps(exported)
    for key in ("goals", "account_reviews", "review_answers", "referral_code", "referrals",
                "referral_rewards", "loyalty", "loyalty_tier_changes"):  # fmt: skip
        assert exported[key], key
    assert SECRET in text and exported["loyalty"][0]["tier"] == "Gold"
    with clock.frozen(NOW), db.transaction(engine) as session:
        vera = session.get(Customer, w.vera)
        assert vera is not None
        erase_customer(session, vera)
    with engine.connect() as conn:
        dump = json.dumps(
            [
                [list(row) for row in conn.execute(sa.select(model))]
                for model in (Goal, AccountReview, ReviewAnswer, Referral, ReferralReward)
            ],
            default=str,
        )
        assert SECRET not in dump
        for model in (ReferralCode, LoyaltyStatus, TierChange):
            assert conn.execute(sa.select(sa.func.count()).select_from(model)).scalar() == 0
        statuses = conn.execute(sa.select(AccountReview.status, AccountReview.open_customer_id))
        assert list(statuses) == [("cancelled", None)]  # never on an agenda again
        # that Rui was referred stays, between anonymous records
        assert conn.execute(sa.select(Referral.customer_id, Referral.referrer_id)).one() == (
            w.rui,
            w.vera,
        )


def test_deleting_a_customer_takes_their_advocacy_records_along(engine: Engine) -> None:
    from keepwell.customers.service import delete_customer

    w = make_world(engine)
    with clock.frozen(NOW), db.transaction(engine) as session:
        vera, rui = session.get(Customer, w.vera), session.get(Customer, w.rui)
        assert vera is not None and rui is not None
        add_goal(session, vera, what="Grow")
        answer_review(
            session, start_review(session, vera), [AnswerIn("worked", "yes")], member=None
        )
        code_of(session, vera)
        link_referral(session, rui, referrer=vera)
    with clock.frozen(NOW), db.transaction(engine) as session:
        vera = session.get(Customer, w.vera)
        assert vera is not None
        delete_customer(session, vera)
    with engine.connect() as conn:
        for model in (Goal, AccountReview, ReviewAnswer, ReferralCode, Referral, ReferralReward):
            assert conn.execute(sa.select(sa.func.count()).select_from(model)).scalar() == 0
