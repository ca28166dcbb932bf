"""The demo world's desk: conversations, promises, cases and tasks on top of its orders.

`build_desk` runs after `build_world` (which makes the team, customers and orders) so that
`make demo` opens on a full agenda for every team member: overdue and kept promises, open
and resolved cases awaiting the customer's confirmation, tasks, customers gone quiet,
birthdays in the coming week. Deterministic for a seed and a day, like the world.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keepwell.customers import derived
from keepwell.db import table_of
from keepwell.models import Case, Customer, Order, Promise, Task, Touch

CALLS = (  # channel, direction, sentiment, summary
    (
        "call",
        "outbound",
        "positive",
        "Called to see how the {product} is doing — very happy with it",
    ),
    ("call", "outbound", "neutral", "Check-in call; busy season, will order again next month"),
    ("email", "outbound", "positive", "Sent brewing tips for the {product}; thanked us"),
    ("email", "inbound", "neutral", "Asked whether we ship to their new office"),
    ("email", "inbound", "negative", "Parcel arrived two days late; not pleased"),
    (
        "meeting",
        "outbound",
        "positive",
        "Tasting session at their place; loved the washed Ethiopian",
    ),
    ("chat", "inbound", "neutral", "Asked about decaf options for the afternoon"),
    ("note", "outbound", "neutral", "Mentioned their daughter starts university in the autumn"),
    ("social", "inbound", "positive", "Posted a photo of their morning brew and tagged us"),
    ("gift", "outbound", "positive", "Sent a sample of the new single origin with a card"),
    ("letter", "outbound", "positive", "Handwritten thank-you for being with us so long"),
)
PROMISES = (
    "send the price list for the new single origins",
    "find out when the grinder burrs are back in stock",
    "call back about a wholesale discount",
    "send the descaling guide for the machine",
    "book a tasting session at their shop",
    "refund the shipping on the late parcel",
)
CASES = (
    (
        "Grinder arrived with a cracked hopper",
        "high",
        "delivery",
        "Packed grinders in double boxes",
    ),
    ("Charged twice for one order", "urgent", "billing", "Fixed the payment retry at checkout"),
    ("Beans tasted stale", "normal", "product", "Roast dates now printed on every bag"),
    ("Subscription skipped a month", "normal", "service", "Alert when a renewal fails"),
    ("No reply to two e-mails", "high", "communication", "Shared inbox with an owner per thread"),
)


@dataclass(frozen=True)
class DeskSummary:
    touches: int
    promises: int
    cases: int
    tasks: int


def build_desk(conn: Connection, *, members: list[int], seed: int, today: date) -> DeskSummary:
    """Add conversations, promises, cases and tasks to a freshly built demo world whose
    team is `members` (their ids, in the demo team's order)."""
    rng = random.Random(seed * 7919 + 1)
    now = datetime.combine(today, time(9, 30), UTC)
    customers = _customers(conn)
    touches = _touches(rng, customers, now)
    if touches:
        conn.execute(sa.insert(table_of(Touch)), touches)
    derived.refresh(conn)  # last contacts and next check-ins from the touches
    promises, cases, tasks = [], [], []
    for member_id in members:
        mine = [c for c in customers if c["owner_id"] == member_id]
        rng.shuffle(mine)
        promises += _promises(rng, member_id, mine[:9], now)
        cases += _cases(rng, member_id, mine[9:15], now)
        tasks += _tasks(rng, member_id, mine[15:23], now, today)
    if promises:
        conn.execute(sa.insert(table_of(Promise)), promises)
    case_ids = []
    for case in cases:
        confirm = case.pop("_confirm_task", None)
        case_id = conn.execute(
            sa.insert(table_of(Case)).values(**case).returning(table_of(Case).c.id)
        ).scalar_one()
        case_ids.append(case_id)
        if confirm is not None:
            confirm["case_id"] = case_id
            confirm["dedupe_key"] = f"confirm-case:{case_id}:0"
            tasks.append(confirm)
    if tasks:
        conn.execute(sa.insert(table_of(Task)), tasks)
    from keepwell.feedback.demo import build_feedback

    build_feedback(conn, seed=seed, today=today)  # surveys answered, loops closed
    from keepwell.reviews.demo import seed_advocacy

    seed_advocacy(conn, seed=seed, today=today)  # goals, reviews, referrals, loyalty tiers
    from keepwell.playbooks.demo import seed as run_playbooks

    run_playbooks(conn, seed=seed, today=today)  # today's follow-up, as tasks
    return DeskSummary(len(touches), len(promises), len(case_ids), len(tasks))


def _customers(conn: Connection) -> list[dict[str, Any]]:
    c, o = table_of(Customer), table_of(Order)
    last_product = (
        sa.select(o.c.product)
        .where(o.c.customer_id == c.c.id)
        .order_by(o.c.ordered_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = sa.select(
        c.c.id,
        c.c.name,
        c.c.owner_id,
        c.c.first_seen,
        c.c.last_order_at,
        c.c.order_count,
        c.c.revenue_minor,
        last_product.label("product"),
    ).order_by(c.c.id)
    return [dict(row._mapping) for row in conn.execute(query)]


def _touches(
    rng: random.Random, customers: list[dict[str, Any]], now: datetime
) -> list[dict[str, Any]]:
    rows = []
    for customer in customers:
        first, last = customer["first_seen"], customer["last_order_at"]
        if first is None or last is None or rng.random() < 0.25:
            continue  # a quarter were never contacted
        # the relationship was talked to while it was active, and for a while after
        end = min(now - timedelta(hours=2), last + timedelta(days=rng.randrange(0, 120)))
        span = max(1.0, (end - first).total_seconds())
        for _ in range(1 + min(8, customer["order_count"] // 2 + rng.randrange(0, 3))):
            channel, direction, sentiment, text = rng.choice(CALLS)
            rows.append(
                {
                    "customer_id": customer["id"],
                    "member_id": customer["owner_id"] if direction == "outbound" else None,
                    "channel": channel,
                    "direction": direction,
                    "happened_at": first + timedelta(seconds=rng.random() * span),
                    "summary": text.format(product=(customer["product"] or "coffee").lower()),
                    "sentiment": sentiment,
                    "created_at": now,
                }
            )
    return rows


def _promises(
    rng: random.Random, member_id: int, customers: list[dict[str, Any]], now: datetime
) -> list[dict[str, Any]]:
    rows = []
    # overdue, due today, coming up, kept on time, kept late, broken
    plan = [
        "open:-4",
        "open:-1",
        "open:0",
        "open:3",
        "open:6",
        "kept:-12",
        "kept:-20",
        "kept_late:-9",
        "broken:-30",
    ]
    for customer, step in zip(customers, plan, strict=False):
        status, offset = step.split(":")
        due = datetime.combine(now.date() + timedelta(days=int(offset)), time(17), UTC)
        made = due - timedelta(days=rng.randrange(3, 10))
        done = None
        if status == "kept":
            done = due - timedelta(hours=rng.randrange(2, 40))
        elif status == "kept_late":
            done = due + timedelta(days=2)
        rows.append(
            {
                "customer_id": customer["id"],
                "member_id": member_id,
                "what": rng.choice(PROMISES),
                "made_at": made,
                "due_at": due,
                "original_due_at": due,
                "status": status,
                "completed_at": done,
                "outcome": "Done as promised" if done else "",
                "slips": 0,
                "version": 1,
            }
        )
    return rows


def _cases(
    rng: random.Random, member_id: int, customers: list[dict[str, Any]], now: datetime
) -> list[dict[str, Any]]:
    rows = []
    for n, customer in enumerate(customers):
        title, severity, cause, prevention = CASES[(member_id + n) % len(CASES)]
        opened = now - timedelta(hours=rng.randrange(3, 24 * 25))
        row: dict[str, Any] = {
            "customer_id": customer["id"],
            "member_id": member_id,
            "title": title,
            "description": "",
            "severity": severity,
            "status": "open",
            "opened_at": opened,
            "root_cause": "",
            "prevention": "",
            "resolution": "",
            "reopened_count": 0,
            "version": 1,
        }
        if n >= 2:  # the first two still wait for a first response
            row["first_response_at"] = opened + timedelta(hours=rng.randrange(1, 20))
        if n >= 3:
            resolved = min(now - timedelta(hours=1), opened + timedelta(days=rng.randrange(1, 5)))
            row.update(
                status="resolved",
                resolved_at=resolved,
                root_cause_category=cause,
                root_cause=f"{cause.capitalize()} problem",
                prevention=prevention,
                resolution="Replaced and apologised",
            )
            row["_confirm_task"] = {
                "customer_id": customer["id"],
                "member_id": member_id,
                "kind": "confirm_case",
                "due_on": (resolved + timedelta(days=7)).date() if n < 5 else now.date(),
                "reason": f"Check that {customer['name']} is really satisfied: “{title}” was "
                f"resolved on {resolved:%d %b} ({prevention.lower()}).",
                "context": "",
                "source": "case",
                "status": "open",
                "outcome": "",
                "created_at": resolved,
                "version": 1,
            }
        rows.append(row)
    return rows


def _tasks(
    rng: random.Random, member_id: int, customers: list[dict[str, Any]], now: datetime, today: date
) -> list[dict[str, Any]]:
    kinds = (
        (
            "thank_you",
            "Thank {name} for the order last week — a short personal note, not a sales pitch.",
        ),
        ("check_in", "Two weeks since {name}'s {product}: how is it going, can we help?"),
        ("check_in", "A month since {name}'s {product}: is it still working well for them?"),
        ("follow_up", "{name} asked about a wholesale account: send the terms."),
    )
    rows = []
    for n, customer in enumerate(customers):
        kind, text = kinds[n % len(kinds)]
        rows.append(
            {
                "customer_id": customer["id"],
                "member_id": member_id,
                "kind": kind,
                "due_on": today - timedelta(days=rng.randrange(0, 3)),
                "reason": text.format(
                    name=customer["name"], product=(customer["product"] or "order").lower()
                ),
                "context": "",
                "source": "playbook" if kind != "follow_up" else "person",
                "dedupe_key": f"demo:{kind}:{n}",
                "status": "open",
                "outcome": "",
                "created_at": now,
                "version": 1,
            }
        )
    return rows
