"""The demo's advocacy records: goals agreed with key accounts, account reviews (some done,
some due today or overdue, so they are on the agenda), referral codes, referrals with
their rewards (pending, earned, given), and loyalty tiers with a month of tier changes.

One call from `ingest/demo_desk.build_desk`; deterministic for a seed and a day.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keepwell.customers.models import Customer
from keepwell.db import table_of
from keepwell.loyalty.service import refresh
from keepwell.orders.models import Order
from keepwell.referrals.models import Referral, ReferralCode, ReferralReward
from keepwell.referrals.service import ALPHABET, CODE_LENGTH, DEFAULT_REWARD
from keepwell.reviews.models import AccountReview, Goal, ReviewAnswer, ReviewQuestion
from keepwell.reviews.service import BUILTIN, schedule_reviews
from keepwell.reviews.setup import DEFAULT_INTERVAL_DAYS

GOALS = (
    "Never run out of espresso beans in the busy season",
    "Cut their coffee cost per cup below 0.30",
    "Train two new baristas on the grinder",
    "Open a second shop by the summer",
    "Switch the office to monthly invoicing",
    "Offer a decaf their customers ask for again",
    "Host a tasting evening for their regulars",
)
NOTES = {
    "last_check_in": ("Regular calls, they like Tuesdays", "A bit quiet since the summer"),
    "on_time": ("Every delivery on time", "One parcel two days late in October"),
    "goals": ("On track for the second shop", "Stock-outs still happen on Saturdays"),
    "worked": ("The new blend sells well", "The grinder fixed their morning queue"),
}
CUSTOM_QUESTION = "Would they recommend us to a friend?"


@dataclass(frozen=True)
class AdvocacySummary:
    goals: int
    reviews_done: int
    reviews_due: int
    referrals: int
    rewards: int


def seed_advocacy(conn: Connection, *, seed: int, today: date) -> AdvocacySummary:
    rng = random.Random(seed * 104_729 + 9)
    now = datetime.combine(today, time(9, 0), UTC)
    c = table_of(Customer)
    customers = [
        dict(row._mapping)
        for row in conn.execute(
            sa.select(
                c.c.id, c.c.owner_id, c.c.segment, c.c.first_seen, c.c.order_count,
                c.c.created_at,
            ).order_by(c.c.id)
        )
    ]  # fmt: skip
    key = [x for x in customers if x["segment"] == "vip"]
    conn.execute(
        sa.insert(table_of(ReviewQuestion)),
        [{"text": CUSTOM_QUESTION, "active": True, "position": 0, "created_at": now}],
    )
    question_id = conn.execute(sa.select(sa.func.max(table_of(ReviewQuestion).c.id))).scalar_one()
    goals = _goals(conn, rng, key, today, now)
    done, due = _reviews(conn, rng, key, today, now, question_id)
    referrals, rewards = _referrals(conn, rng, customers, now)
    schedule_reviews(conn, today)  # any key account left without a review
    refresh(conn, today - timedelta(days=30))  # a month of tier changes to act on
    refresh(conn, today)
    return AdvocacySummary(goals, done, due, referrals, rewards)


def _goals(
    conn: Connection, rng: random.Random, key: list[dict[str, Any]], today: date, now: datetime
) -> int:
    rows = []
    for customer in key:
        for what in rng.sample(GOALS, rng.choice((0, 1, 1, 2, 3))):
            agreed = today - timedelta(days=rng.randrange(20, 300))
            status = rng.choices(("open", "met", "missed", "dropped"), (6, 3, 1, 1))[0]
            closed = None if status == "open" else today - timedelta(days=rng.randrange(1, 19))
            rows.append(
                {
                    "customer_id": customer["id"], "member_id": customer["owner_id"],
                    "what": what, "agreed_on": agreed,
                    "target_on": agreed + timedelta(days=rng.randrange(60, 360)),
                    "status": status,
                    "closed_on": closed,
                    "notes": "", "created_at": now, "updated_at": now, "version": 1,
                }
            )  # fmt: skip
    if rows:
        conn.execute(sa.insert(table_of(Goal)), rows)
    return len(rows)


def _reviews(
    conn: Connection,
    rng: random.Random,
    key: list[dict[str, Any]],
    today: date,
    now: datetime,
    question_id: int,
) -> tuple[int, int]:
    reviews, answers = table_of(AccountReview), table_of(ReviewAnswer)
    questions = [*BUILTIN, (f"q:{question_id}", CUSTOM_QUESTION)]
    done = due = 0
    for customer in key:
        base = {
            "customer_id": customer["id"], "member_id": customer["owner_id"], "kind": "periodic",
            "note": "", "answered": 0, "yes": 0, "partly": 0, "goals_met": 0, "goals_total": 0,
            "created_at": now, "version": 1,
        }  # fmt: skip
        next_due = today - timedelta(days=rng.randrange(0, 21))  # never reviewed: due now
        if rng.random() > 0.35:
            ago = rng.randrange(10, 150)
            completed = now - timedelta(days=ago, hours=rng.randrange(0, 8))
            given = [
                (k, t, rng.choices(("yes", "partly", "no"), (7, 2, 1))[0]) for k, t in questions
            ]
            notes = [
                rng.choice(NOTES.get(k, ("",))) if a != "yes" or rng.random() < 0.3 else ""
                for k, _, a in given
            ]
            review_id = conn.execute(
                sa.insert(reviews)
                .values(
                    **base, due_on=completed.date(), status="done", open_customer_id=None,
                    completed_at=completed, completed_by_id=customer["owner_id"],
                ).returning(reviews.c.id)
            ).scalar_one()  # fmt: skip
            conn.execute(
                sa.insert(answers),
                [
                    {
                        "review_id": review_id, "customer_id": customer["id"], "question": k,
                        "question_text": t, "answer": a,
                        "note": note,
                        "answered_at": completed, "answered_by_id": customer["owner_id"],
                    }
                    for (k, t, a), note in zip(given, notes, strict=True)
                ],
            )  # fmt: skip
            conn.execute(
                sa.update(reviews)
                .where(reviews.c.id == review_id)
                .values(
                    answered=len(given),
                    yes=sum(a == "yes" for _, _, a in given),
                    partly=sum(a == "partly" for _, _, a in given),
                )
            )
            done += 1
            next_due = completed.date() + timedelta(days=DEFAULT_INTERVAL_DAYS)
        conn.execute(
            sa.insert(reviews).values(
                **base, due_on=next_due, status="due", open_customer_id=customer["id"]
            )
        )
        due += next_due <= today
    return done, due


def _referrals(
    conn: Connection, rng: random.Random, customers: list[dict[str, Any]], now: datetime
) -> tuple[int, int]:
    buyers = [x for x in customers if x["order_count"] and x["first_seen"] is not None]
    if len(buyers) < 4:
        return 0, 0
    holders = rng.sample(buyers, max(2, len(buyers) * 3 // 10))
    codes: dict[int, str] = {}
    taken: set[str] = set()
    for holder in holders:
        code = ""
        while not code or code in taken:
            code = "".join(rng.choice(ALPHABET) for _ in range(CODE_LENGTH))
        taken.add(code)
        codes[holder["id"]] = code
    conn.execute(
        sa.insert(table_of(ReferralCode)),
        [{"customer_id": cid, "code": code, "created_at": now} for cid, code in codes.items()],
    )
    referred_already: set[int] = set()
    links = []
    for _ in range(max(2, len(holders) // 8)):
        referrer = rng.choice(holders)
        later = [
            x
            for x in customers
            if x["first_seen"] is not None
            and x["first_seen"] > referrer["first_seen"]
            and x["id"] not in referred_already
            and x["id"] != referrer["id"]
        ]
        if not later:
            continue
        referred = rng.choice(later[:200])
        referred_already.add(referred["id"])
        links.append((referred, referrer))
    r, w, o = table_of(Referral), table_of(ReferralReward), table_of(Order)
    rewards = 0
    for referred, referrer in links:
        linked = min(now, referred["first_seen"])
        referral_id = conn.execute(
            sa.insert(r)
            .values(
                customer_id=referred["id"], referrer_id=referrer["id"],
                code=codes[referrer["id"]], source="demo", linked_at=linked, linked_by_id=None,
                note="Said a friend recommended us",
            ).returning(r.c.id)
        ).scalar_one()  # fmt: skip
        first = conn.execute(
            sa.select(sa.func.min(o.c.ordered_at)).where(o.c.customer_id == referred["id"])
        ).scalar()
        status, given = ("pending", None)
        if first is not None:
            status = "earned"
            if rng.random() < 0.5:
                status, given = "given", min(now, first + timedelta(days=rng.randrange(2, 20)))
        conn.execute(
            sa.insert(w).values(
                referral_id=referral_id, customer_id=referrer["id"], what=DEFAULT_REWARD,
                status=status, earned_at=first, given_at=given,
                given_by_id=referrer["owner_id"] if given else None,
                note="A bag of the single origin" if given else "", created_at=linked, version=1,
            )
        )  # fmt: skip
        rewards += 1
    return len(links), rewards
