"""The demo's feedback: 15 months of survey answers with their links, CSAT after cases
and deliveries, two-way scorecards for key accounts, and the loops closed by actions.

The story the figures tell: delivery complaints drag the NPS down until the courier is
changed (five months ago); after that promoters grow. Detractors of the last days wait
for their owner's call on the agenda. Deterministic for a seed and a day; called once
from keepwell/ingest/demo_desk.py on the same connection.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keepwell.analytics.nps import DETRACTOR_MAX, LOW_CSAT_MAX
from keepwell.cases.models import Case
from keepwell.customers import derived
from keepwell.customers.models import Customer
from keepwell.db import table_of
from keepwell.feedback.models import (
    CUSTOMER_CATEGORIES,
    OUR_CATEGORIES,
    Feedback,
    FeedbackAction,
    FeedbackActionLink,
    SurveyInvitation,
)
from keepwell.orders.models import Order
from keepwell.tasks.models import Task
from keepwell.touches.models import Touch

DAYS = 455  # fifteen months of answers
COURIER_CHANGED = 150  # days ago
# (topic, words): what detractors, passives and promoters say
DETRACTORS = (
    ("delivery", "Parcel arrived three days late, again."),
    ("delivery", "The courier left the box out in the rain."),
    ("delivery", "Two deliveries in a row came after the weekend I needed them."),
    ("stale", "The last bag tasted stale."),
    ("reply", "Nobody answered my two e-mails about the grinder."),
    ("price", "Too expensive for what it is now."),
    ("", "The subscription skipped a month and no one told me."),
)
PASSIVES = (
    "Good coffee; delivery could be quicker.",
    "Fine, but the website is clumsy on my phone.",
    "Nice beans, a bit pricey.",
    "OK. I would like more decaf options.",
    "Reliable. Nothing special, nothing wrong.",
)
PROMOTERS = (
    "Best beans in town, and they always remember my order.",
    "Fast delivery and lovely single origins.",
    "The tasting session was a treat.",
    "Always helpful: the descaling tip saved my machine.",
    "Consistently fresh; the roast date on the bag is great.",
    "Next-day delivery now, brilliant.",
)
CSAT_WORDS = {
    1: "Took a week to sort out and I had to chase every time.",
    2: "Solved in the end, but slowly.",
    3: "It was fine.",
    4: "Quick and friendly.",
    5: "Sorted the same day, thank you!",
}
ACTIONS = (  # topic, what, closed days ago (None: not done yet)
    ("delivery", "Changed our courier to a next-day service with tracking", COURIER_CHANGED - 10),
    ("stale", "Roast dates are printed on every bag; nothing ships over three weeks old", 200),
    ("reply", "One shared inbox, every thread with an owner, answered within a day", 90),
    ("price", "Looking at a 1 kg bag at a lower price per cup", None),
)


@dataclass(frozen=True)
class FeedbackSummary:
    answers: int
    invitations: int
    actions: int
    loops_closed: int
    tasks: int


def build_feedback(conn: Connection, *, seed: int, today: date) -> FeedbackSummary:
    """Add survey answers, actions and closed loops to a freshly built demo desk."""
    rng = random.Random(seed * 104729 + 5)
    now = datetime.combine(today, time(9, 30), UTC)
    customers = _customers(conn)
    writer = _Writer(conn, now, customers)
    topics: dict[str, list[dict[str, Any]]] = {}
    for customer in customers:
        for answered in _answer_times(rng, customer, now):
            row = _nps_answer(rng, customer, answered, now)
            topic = row.pop("_topic")
            saved = writer.answer(customer, row)
            if topic:
                topics.setdefault(topic, []).append(saved)
            elif row["score"] >= 9 and answered < now - timedelta(days=30) and rng.random() < 0.4:
                writer.tell(saved, "Thanked them for the kind words", answered + _days(rng, 1, 6))
        if customer["first_seen"] is not None and rng.random() < 0.04:
            writer.pending(customer, now - _days(rng, 0, 60), rng)  # sent, not answered (yet)
    for case in _cases(conn):
        if rng.random() < 0.8:
            writer.csat(rng, case["customer"], case["resolved_at"], case_id=case["id"])
    for order in _recent_orders(conn, rng, now):
        writer.csat(rng, order["customer"], order["ordered_at"], order_id=order["id"])
    _scorecards(writer, rng, customers, now)
    writer.flush_answers()
    actions = 0
    for topic, what, closed_days in ACTIONS:
        linked = [f for f in topics.get(topic, []) if f["told_at"] is None]
        done = None if closed_days is None else now - timedelta(days=closed_days)
        if done is not None:  # what was done answers the feedback given before it
            linked = [f for f in linked if f["answered_at"] < done]
        if not linked:
            continue
        actions += 1
        writer.action(what, linked, done, rng)
    writer.flush_tells()
    tasks = writer.follow_ups(now)
    if writer.touches:
        derived.refresh(conn)  # the tellings moved last contacts and check-ins
    return FeedbackSummary(writer.answers, writer.invitations, actions, writer.closed, tasks)


def _days(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(days=low + rng.random() * (high - low))


def _customers(conn: Connection) -> list[dict[str, Any]]:
    c = table_of(Customer)
    query = sa.select(
        c.c.id, c.c.name, c.c.owner_id, c.c.segment, c.c.first_seen, c.c.last_order_at,
        c.c.order_count, c.c.revenue_minor,
    ).order_by(c.c.id)  # fmt: skip
    return [dict(row._mapping) for row in conn.execute(query)]


def _answer_times(rng: random.Random, customer: dict[str, Any], now: datetime) -> list[datetime]:
    first, last = customer["first_seen"], customer["last_order_at"]
    if first is None or last is None or rng.random() > 0.3:
        return []
    start = max(first + timedelta(days=14), now - timedelta(days=DAYS))
    end = min(now - timedelta(hours=2), last + timedelta(days=120))
    if end <= start:
        return []
    span = (end - start).total_seconds()
    times = [start + timedelta(seconds=rng.random() * span)]
    if customer["order_count"] >= 3 and rng.random() < 0.35:
        times.append(start + timedelta(seconds=rng.random() * span))
    return sorted(times)


def _nps_answer(
    rng: random.Random, customer: dict[str, Any], answered: datetime, now: datetime
) -> dict[str, Any]:
    after = answered >= now - timedelta(days=COURIER_CHANGED)
    loyal = customer["order_count"] >= 4
    promoter = 0.34 + (0.16 if after else 0.0) + (0.08 if loyal else 0.0)
    detractor = 0.30 - (0.14 if after else 0.0) - (0.06 if loyal else 0.0)
    draw = rng.random()
    topic = ""
    if draw < detractor:
        score = rng.choice((0, 2, 3, 4, 5, 5, 6, 6, 6))
        choices = [d for d in DETRACTORS if not (after and d[0] == "delivery")]
        topic, words = rng.choice(choices)
    elif draw < detractor + promoter:
        score = rng.choice((9, 9, 10))
        words = rng.choice(PROMOTERS if after else PROMOTERS[:-1])
    else:
        score = rng.choice((7, 8, 8))
        words = rng.choice(PASSIVES)
    if not topic and rng.random() < 0.3:
        words = ""  # many leave no comment
    return {"kind": "nps", "score": score, "verbatim": words, "answered_at": answered,
            "_topic": topic}  # fmt: skip


def _cases(conn: Connection) -> list[dict[str, Any]]:
    cases = table_of(Case)
    query = (
        sa.select(cases.c.id, cases.c.customer_id, cases.c.resolved_at)
        .where(cases.c.resolved_at.is_not(None))
        .order_by(cases.c.id)
    )
    return [{"id": i, "customer": c, "resolved_at": r} for i, c, r in conn.execute(query)]


def _recent_orders(conn: Connection, rng: random.Random, now: datetime) -> list[dict[str, Any]]:
    orders = table_of(Order)
    query = (
        sa.select(orders.c.id, orders.c.customer_id, orders.c.ordered_at)
        .where(orders.c.ordered_at >= now - timedelta(days=365), orders.c.ordered_at < now)
        .order_by(orders.c.id)
    )
    rows = [{"id": i, "customer": c, "ordered_at": at} for i, c, at in conn.execute(query)]
    return sorted(rng.sample(rows, min(len(rows), 150)), key=lambda r: r["id"])


def _scorecards(
    writer: _Writer, rng: random.Random, customers: list[dict[str, Any]], now: datetime
) -> None:
    """The key accounts (highest revenue) rate us, and their owner rates them."""
    key = sorted(
        (c for c in customers if c["order_count"] >= 2),
        key=lambda c: (-c["revenue_minor"], c["id"]),
    )[:20]
    for customer in sorted(key, key=lambda c: c["id"]):
        at = now - _days(rng, 5, 300)
        theirs = {name: rng.choice((3, 4, 4, 5, 5)) for name in CUSTOMER_CATEGORIES}
        if at < now - timedelta(days=COURIER_CHANGED):
            theirs["delivery"] = rng.choice((2, 3, 3))
        words = "Great partner; deliveries used to be the weak spot." if rng.random() < 0.5 else ""
        writer.answer(customer, {"kind": "scorecard", "score": None, "ratings": theirs,
                                 "verbatim": words, "answered_at": at})  # fmt: skip
        ours = {name: rng.choice((2, 3, 4, 4, 5)) for name in OUR_CATEGORIES}
        note = rng.choice(("", "Orders come in bursts; a forecast would help us.", ""))
        writer.rate(customer, ours, note, at + _days(rng, 0, 10))


class _Writer:
    """Collects the rows, then writes each table in one statement (ids come back in
    order: RETURNING with the parameters' order kept)."""

    def __init__(self, conn: Connection, now: datetime, customers: list[dict[str, Any]]) -> None:
        self.conn = conn
        self.now = now
        self.by_id = {c["id"]: c for c in customers}
        self.answers = self.invitations = self.closed = self.touches = 0
        self.negatives: list[dict[str, Any]] = []
        self._invitations: list[dict[str, Any]] = []
        self._feedback: list[dict[str, Any]] = []  # with "_invitation": its invitation row
        self._tells: list[tuple[list[dict[str, Any]], str, datetime]] = []

    def _insert_many(self, model: Any, rows: list[dict[str, Any]]) -> list[int]:
        if not rows:
            return []
        table = table_of(model)
        query = sa.insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return [int(i) for i in self.conn.execute(query, rows).scalars()]

    def _invite(
        self, customer: dict[str, Any], kind: str, at: datetime, **context: Any
    ) -> dict[str, Any]:
        self.invitations += 1
        sent = at - timedelta(hours=6 + (customer["id"] * 7919 % 60))
        sent = sent.replace(microsecond=0)
        row = {
            "customer_id": customer["id"], "kind": kind, "created_at": sent,
            "expires_at": sent + timedelta(days=30), "used_at": at,
            "sent_by_id": customer["owner_id"], "case_id": None, "order_id": None, **context,
        }  # fmt: skip
        self._invitations.append(row)
        return row

    def answer(
        self, customer: dict[str, Any], row: dict[str, Any], **context: Any
    ) -> dict[str, Any]:
        invitation = self._invite(customer, row["kind"], row["answered_at"], **context)
        full = {
            "customer_id": customer["id"], "ratings": None, "source": "survey",
            "member_id": None, "case_id": None, "order_id": None, "told_note": "",
            "created_at": row["answered_at"], "version": 1, **row, **context,
            "_invitation": invitation,
        }  # fmt: skip
        self._feedback.append(full)
        full["told_at"] = None
        self.answers += 1
        score = full["score"]
        if score is not None and (
            (full["kind"] == "nps" and score <= DETRACTOR_MAX)
            or (full["kind"] == "csat" and score <= LOW_CSAT_MAX)
        ):
            self.negatives.append(full)
        return full

    def pending(self, customer: dict[str, Any], sent: datetime, rng: random.Random) -> None:
        self.invitations += 1
        sent = sent.replace(microsecond=0)
        self._invitations.append({
            "customer_id": customer["id"], "kind": rng.choice(("nps", "nps", "scorecard")),
            "created_at": sent, "expires_at": sent + timedelta(days=30), "used_at": None,
            "sent_by_id": customer["owner_id"], "case_id": None, "order_id": None,
        })  # fmt: skip

    def csat(self, rng: random.Random, customer_id: int, after: datetime, **context: Any) -> None:
        customer = self.by_id[customer_id]
        at = min(self.now - timedelta(hours=1), after + _days(rng, 0.5, 4))
        score = rng.choice((1, 2, 3, 4, 4, 5, 5, 5))
        words = CSAT_WORDS[score] if rng.random() < 0.6 else ""
        saved = self.answer(customer, {"kind": "csat", "score": score, "verbatim": words,
                                       "answered_at": at}, **context)  # fmt: skip
        if score <= LOW_CSAT_MAX and at < self.now - timedelta(days=10) and rng.random() < 0.7:
            self.tell(saved, "Apologised, and explained what we changed", at + _days(rng, 1, 5))

    def rate(
        self, customer: dict[str, Any], ratings: dict[str, int], note: str, at: datetime
    ) -> None:
        at = min(at, self.now - timedelta(hours=1))
        self._feedback.append({
            "customer_id": customer["id"], "kind": "relationship", "score": None,
            "ratings": ratings, "verbatim": note, "answered_at": at, "source": "manual",
            "member_id": customer["owner_id"], "case_id": None, "order_id": None,
            "told_note": "", "created_at": at, "version": 1, "_invitation": None,
            "told_at": None,
        })  # fmt: skip
        self.answers += 1

    def flush_answers(self) -> None:
        """Write the invitations and the answers; each answer learns its id."""
        for row, new_id in zip(
            self._invitations, self._insert_many(SurveyInvitation, self._invitations), strict=True
        ):
            row["id"] = new_id
        rows = []
        for item in self._feedback:
            invitation = item["_invitation"]
            row = {k: v for k, v in item.items() if not k.startswith("_") and k != "told_at"}
            row["invitation_id"] = invitation["id"] if invitation is not None else None
            rows.append(row)
        for item, new_id in zip(self._feedback, self._insert_many(Feedback, rows), strict=True):
            item["id"] = new_id

    def tell(self, items: dict[str, Any] | list[dict[str, Any]], note: str, at: datetime) -> None:
        group = items if isinstance(items, list) else [items]
        at = min(at, self.now - timedelta(hours=1))
        for item in group:
            item["told_at"] = at
        self._tells.append((group, note, at))

    def flush_tells(self) -> None:
        """One outbound interaction per telling; the loops of its feedback closed."""
        touches = []
        for group, note, at in self._tells:
            customer = self.by_id[group[0]["customer_id"]]
            touches.append({
                "customer_id": customer["id"], "member_id": customer["owner_id"],
                "channel": "email", "direction": "outbound", "happened_at": at,
                "sentiment": None, "promise_id": None, "case_id": None, "created_at": at,
                "summary": f"Told them what we did about their feedback: {note}",
            })  # fmt: skip
        touch_ids = self._insert_many(Touch, touches)
        self.touches = len(touch_ids)
        updates = []
        for (group, note, at), touch_id in zip(self._tells, touch_ids, strict=True):
            owner = self.by_id[group[0]["customer_id"]]["owner_id"]
            for item in group:
                updates.append({"fid": item["id"], "at": at, "note": note, "by": owner,
                                "touch": touch_id})  # fmt: skip
        if updates:
            feedback = table_of(Feedback)
            self.conn.execute(
                sa.update(feedback).where(feedback.c.id == sa.bindparam("fid")).values(
                    told_at=sa.bindparam("at"), told_channel="email",
                    told_note=sa.bindparam("note"), told_by_id=sa.bindparam("by"),
                    told_touch_id=sa.bindparam("touch"), version=2,
                ),
                updates,
            )  # fmt: skip
        self.closed = len(updates)

    def action(
        self, what: str, linked: list[dict[str, Any]], done: datetime | None, rng: random.Random
    ) -> None:
        created = min(min(f["answered_at"] for f in linked) + timedelta(days=3), self.now)
        table = table_of(FeedbackAction)
        action = self.conn.execute(
            sa.insert(table).values(what=what, member_id=None, created_at=created, done_at=done,
                                    version=1).returning(table.c.id)
        ).scalar_one()  # fmt: skip
        self.conn.execute(
            sa.insert(table_of(FeedbackActionLink)),
            [{"action_id": action, "feedback_id": f["id"], "linked_at": created} for f in linked],
        )
        if done is None:
            return
        by_customer: dict[int, list[dict[str, Any]]] = {}
        for item in linked:
            by_customer.setdefault(item["customer_id"], []).append(item)
        for customer_id in sorted(by_customer):
            if rng.random() < 0.9:  # a few could not be reached
                self.tell(by_customer[customer_id], what, done + _days(rng, 0, 2))

    def follow_ups(self, now: datetime) -> int:
        """The open detractor and low-CSAT tasks of the last ten days, for the owners."""
        rows = []
        for item in self.negatives:
            if item["told_at"] is not None or item["answered_at"] < now - timedelta(days=10):
                continue
            customer = self.by_id[item["customer_id"]]
            nps = item["kind"] == "nps"
            who = customer["name"] or f"customer #{customer['id']}"
            rows.append({
                "customer_id": customer["id"], "member_id": customer["owner_id"],
                "kind": "detractor call" if nps else "low csat follow-up",
                "due_on": (item["answered_at"] + timedelta(days=2)).date(),
                "reason": (f"{who} scored us {item['score']} out of 10 (a detractor): call to "
                           "listen, and agree what we will do about it.") if nps else
                          (f"{who} rated their satisfaction {item['score']} out of 5: find "
                           "out what went wrong and put it right."),
                "context": f"In their words: “{item['verbatim']}”" if item["verbatim"]
                else "They left no comment: ask what went wrong.",
                "source": "survey", "dedupe_key": f"feedback:{item['id']}", "status": "open",
                "outcome": "", "case_id": item.get("case_id"), "created_at": item["answered_at"],
                "version": 1,
            })  # fmt: skip
        if rows:
            self.conn.execute(sa.insert(table_of(Task)), rows)
        return len(rows)
