"""Survey answers, account reviews and referrals in the scores: health and the advocate stage."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from keepwell.customers.models import Customer
from keepwell.feedback.models import Feedback
from keepwell.ingest.orders_import import import_orders
from keepwell.referrals.models import Referral
from keepwell.reviews.models import AccountReview
from keepwell.scoring.service import score

DAY = dt.date(2024, 6, 30)
AT = dt.datetime(2024, 6, 1, 12, tzinfo=dt.UTC)


def test_answers_reviews_and_referrals_reach_health_and_stage(
    engine: Engine, tmp_path: Path
) -> None:
    # five customers with the same orders (bought on four days, the last a week ago)
    lines = ["customer_id,order_date,amount"]
    for c in "ABCDE":
        lines += [f"{c},2024-0{m}-10,20" for m in (3, 4, 5)] + [f"{c},2024-06-23,20"]
    csv = tmp_path / "orders.csv"
    csv.write_text("\n".join(lines) + "\n")
    import_orders(engine, csv)
    with Session(engine) as session, session.begin():
        ids = {e: i for e, i in session.execute(sa.select(Customer.external_id, Customer.id))}
        session.add_all(
            [
                # A: a promoter whose review went well
                Feedback(customer_id=ids["A"], kind="nps", score=10, answered_at=AT),
                AccountReview(
                    customer_id=ids["A"], due_on=DAY, status="done", completed_at=AT,
                    answered=4, yes=4, goals_met=2, goals_total=2,
                ),
                # B: a 9 then a 3 (the latest counts: no promoter) and a poor review
                Feedback(customer_id=ids["B"], kind="nps", score=9, answered_at=AT),
                Feedback(
                    customer_id=ids["B"], kind="nps", score=3,
                    answered_at=AT + dt.timedelta(days=1),
                ),
                AccountReview(
                    customer_id=ids["B"], due_on=DAY, status="done", completed_at=AT,
                    answered=4, yes=0, partly=2, goals_met=0, goals_total=2,
                ),
                # C: referred D; D: an unhappy CSAT after the scoring day (left out)
                Referral(customer_id=ids["D"], referrer_id=ids["C"], linked_at=AT),
                Feedback(
                    customer_id=ids["D"], kind="csat", score=1,
                    answered_at=dt.datetime(2024, 7, 2, tzinfo=dt.UTC),
                ),
            ]
        )  # fmt: skip
    score(engine, DAY)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT c.external_id, s.health, s.stage FROM scores s "
                "JOIN customers c ON c.id = s.customer_id"
            )
        ).all()
    health = {r[0]: r[1] for r in rows}
    stage = {r[0]: r[2] for r in rows}
    assert stage["A"] == "advocate" and stage["C"] == "advocate"  # promoter; referrer
    assert stage["B"] == stage["D"] == stage["E"] != "advocate"
    # E and D (whose answer came after the scoring day) have neither survey nor review
    assert health["D"] == health["E"]
    # a 10 and a perfect review lift health; a 3 and a poor review lower it
    assert health["A"] > health["E"] > health["B"]
