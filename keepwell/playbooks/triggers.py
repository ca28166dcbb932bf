"""What makes a playbook fire: one set-based query per trigger and day.

Each trigger answers, for one day, which customers it fires for (`Hit`s), with what
happened (`key`, unique per customer and event, so a day caught up later finds the same
events) and the values a reason or e-mail template may use. Every query reads an indexed
or derived column to narrow the customers first (a day's orders through the customers
who ordered since, month-day columns for birthdays and anniversaries, the newest
scoring date): no trigger walks all customers in Python.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from keepwell.cases.models import Case
from keepwell.customers.models import Customer, SpecialDate
from keepwell.db import Base
from keepwell.orders.models import Order
from keepwell.outreach.models import Resource
from keepwell.promises.models import Promise, PromiseUpdate
from keepwell.scoring.models import Score


@dataclass(frozen=True)
class Hit:
    """A trigger fired for a customer: `key` names the event ("order-day:2026-11-02").

    `dedupe_key` is set when another part of the desk already names this event (a
    case's confirmation, a survey answer): the playbook's task then takes that key, so
    it is never a second task for the same thing.
    """

    customer_id: int
    key: str
    values: dict[str, str] = field(default_factory=dict)
    dedupe_key: str | None = None
    member_id: int | None = None
    case_id: int | None = None


Condition = sa.ColumnElement[bool]
Trigger = Callable[[Session, dict[str, Any], date, Condition], list[Hit]]


def _start(day: date) -> datetime:
    return datetime.combine(day, time(0), UTC)


def _md(day: date) -> int:
    return day.month * 100 + day.day


def _mds(day: date) -> list[int]:
    """Month-days celebrated on `day`: 28 February takes in 29 February in common years."""
    found = [_md(day)]
    if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
        found.append(229)
    return found


def _ordered_on(when: date) -> sa.Select[int, str | None]:
    """Customers with an order on `when`: only those whose newest order is that recent."""
    start, end = _start(when), _start(when + timedelta(days=1))
    recent = sa.select(Customer.id).where(Customer.last_order_at >= start)
    return (
        sa.select(Order.customer_id, sa.func.min(Order.product).label("product"))
        .where(Order.customer_id.in_(recent), Order.ordered_at >= start, Order.ordered_at < end)
        .group_by(Order.customer_id)
    )


def _product_note(product: str | None) -> str:
    return f" ({product})" if product else ""


def _customers(session: Session, ids: list[int], condition: Condition) -> set[int]:
    """Which of `ids` meet the playbook's condition."""
    if not ids:
        return set()
    found: set[int] = set()
    for part in range(0, len(ids), 5000):
        chunk = ids[part : part + 5000]
        found.update(
            session.scalars(sa.select(Customer.id).where(Customer.id.in_(chunk), condition))
        )
    return found


def days_after_order(
    session: Session, params: dict[str, Any], day: date, cond: Condition
) -> list[Hit]:
    when = day - timedelta(days=int(params.get("days", 0)))
    rows = session.execute(_ordered_on(when)).all()
    keep = _customers(session, [r.customer_id for r in rows], cond)
    return [
        Hit(
            r.customer_id,
            f"order-day:{when.isoformat()}",
            {
                "product": r.product or "",
                "product_note": _product_note(r.product),
                "ordered_on": when.isoformat(),
            },
        )
        for r in rows
        if r.customer_id in keep
    ]


def order_placed(session: Session, params: dict[str, Any], day: date, cond: Condition) -> list[Hit]:
    return days_after_order(session, {"days": 0}, day, cond)


def first_order(session: Session, params: dict[str, Any], day: date, cond: Condition) -> list[Hit]:
    when = day - timedelta(days=int(params.get("days", 0)))
    candidates = _ordered_on(when).subquery()
    firsts = (
        sa.select(Order.customer_id, sa.func.min(Order.ordered_at).label("first"))
        .where(Order.customer_id.in_(sa.select(candidates.c.customer_id)))
        .group_by(Order.customer_id)
        .subquery()
    )
    query = (
        sa.select(candidates.c.customer_id, candidates.c.product)
        .join(firsts, firsts.c.customer_id == candidates.c.customer_id)
        .where(firsts.c.first >= _start(when))
    )
    rows = session.execute(query).all()
    keep = _customers(session, [r.customer_id for r in rows], cond)
    return [
        Hit(
            r.customer_id,
            "first-order",
            {"product": r.product or "", "product_note": _product_note(r.product)},
        )
        for r in rows
        if r.customer_id in keep
    ]


def special_date(session: Session, params: dict[str, Any], day: date, cond: Condition) -> list[Hit]:
    target = day + timedelta(days=int(params.get("days_ahead", 0)))
    kind = str(params.get("kind", "birthday"))
    if kind == "birthday":
        rows = session.execute(
            sa.select(Customer.id).where(Customer.birthday_md.in_(_mds(target)), cond)
        ).all()
        return [Hit(r.id, f"birthday:{target.year}", {"on": target.isoformat()}) for r in rows]
    query = (
        sa.select(SpecialDate.id, SpecialDate.customer_id, SpecialDate.label, SpecialDate.kind)
        .join(Customer, Customer.id == SpecialDate.customer_id)
        .where(
            SpecialDate.on_md.in_(_mds(target)),
            sa.or_(
                sa.and_(SpecialDate.yearly.is_(True), SpecialDate.on_date <= target),
                SpecialDate.on_date == target,
            ),
            cond,
        )
    )
    if kind != "any":
        query = query.where(SpecialDate.kind == kind)
    return [
        Hit(
            r.customer_id,
            f"special:{r.id}:{target.year}",
            {"on": target.isoformat(), "label": r.label or r.kind},
        )
        for r in session.execute(query)
    ]


def tenure_milestone(
    session: Session, params: dict[str, Any], day: date, cond: Condition
) -> list[Hit]:
    target = day + timedelta(days=int(params.get("days_ahead", 0)))
    years = {int(y) for y in params.get("years", [1])}
    rows = session.execute(
        sa.select(Customer.id, Customer.first_seen).where(
            Customer.anniversary_md.in_(_mds(target)),
            Customer.first_seen < _start(date(target.year, 1, 1)),
            cond,
        )
    ).all()
    hits = []
    for r in rows:  # the month-day index leaves about one customer in 365
        count = target.year - r.first_seen.year
        if count in years:
            hits.append(
                Hit(r.id, f"tenure:{target.year}", {"years": str(count), "on": target.isoformat()})
            )
    return hits


def quiet(session: Session, params: dict[str, Any], day: date, cond: Condition) -> list[Hit]:
    when = day - timedelta(days=int(params.get("days", 90)))
    rows = session.execute(
        sa.select(Customer.id).where(
            Customer.last_contact_at >= _start(when),
            Customer.last_contact_at < _start(when + timedelta(days=1)),
            cond,
        )
    ).all()
    return [Hit(r.id, f"quiet:{when.isoformat()}", {"since": when.isoformat()}) for r in rows]


def promise_due_soon(
    session: Session, params: dict[str, Any], day: date, cond: Condition
) -> list[Hit]:
    ahead = int(params.get("days", 2))
    quiet_days = int(params.get("quiet_days", 3))
    recent_update = sa.exists().where(
        PromiseUpdate.promise_id == Promise.id,
        PromiseUpdate.at >= _start(day - timedelta(days=quiet_days)),
    )
    query = (
        sa.select(Promise.id, Promise.customer_id, Promise.member_id, Promise.what, Promise.due_at)
        .join(Customer, Customer.id == Promise.customer_id)
        .where(
            Promise.status == "open",
            Promise.due_at >= _start(day),
            Promise.due_at < _start(day + timedelta(days=ahead + 1)),
            Promise.made_at < _start(day - timedelta(days=quiet_days - 1)),
            ~recent_update,
            cond,
        )
    )
    return [
        Hit(
            r.customer_id,
            f"promise:{r.id}:{r.due_at.date().isoformat()}",
            {"what": r.what[:200], "due": r.due_at.strftime("%Y-%m-%d %H:%M UTC")},
            member_id=r.member_id,
        )
        for r in session.execute(query)
    ]


def promise_overdue(
    session: Session, params: dict[str, Any], day: date, cond: Condition
) -> list[Hit]:
    query = (
        sa.select(Promise.id, Promise.customer_id, Promise.member_id, Promise.what, Promise.due_at)
        .join(Customer, Customer.id == Promise.customer_id)
        .where(
            Promise.status == "open",
            Promise.due_at >= _start(day),
            Promise.due_at < _start(day + timedelta(days=1)),
            cond,
        )
    )
    return [
        Hit(
            r.customer_id,
            f"promise-overdue:{r.id}:{r.due_at.date().isoformat()}",
            {"what": r.what[:200], "due": r.due_at.strftime("%Y-%m-%d %H:%M UTC")},
            member_id=r.member_id,
        )
        for r in session.execute(query)
    ]


def case_resolved(
    session: Session, params: dict[str, Any], day: date, cond: Condition
) -> list[Hit]:
    from keepwell.cases.service import confirmation_key

    query = (
        sa.select(Case)
        .join(Customer, Customer.id == Case.customer_id)
        .where(
            Case.status == "resolved",
            Case.resolved_at >= _start(day),
            Case.resolved_at < _start(day + timedelta(days=1)),
            cond,
        )
    )
    return [
        Hit(
            case.customer_id,
            f"case:{case.id}",
            {"case_title": case.title[:120], "resolution": case.resolution[:160]},
            dedupe_key=confirmation_key(case),
            member_id=case.member_id,
            case_id=case.id,
        )
        for case in session.scalars(query)
    ]


def case_backlog(session: Session, params: dict[str, Any], day: date, cond: Condition) -> list[Hit]:
    open_count = session.scalar(
        sa.select(sa.func.count()).select_from(Case).where(Case.status == "open")
    )
    if int(open_count or 0) < int(params.get("min_open", 20)):
        return []
    age = _start(day - timedelta(days=int(params.get("min_age_days", 2))) + timedelta(days=1))
    query = (
        sa.select(Case.id, Case.customer_id, Case.member_id, Case.title)
        .join(Customer, Customer.id == Case.customer_id)
        .where(Case.status == "open", Case.opened_at < age, cond)
    )
    return [
        Hit(
            r.customer_id,
            f"patience:{r.id}",
            {"case_title": r.title[:120]},
            member_id=r.member_id,
            case_id=r.id,
        )
        for r in session.execute(query)
    ]


def survey_detractor(
    session: Session, params: dict[str, Any], day: date, cond: Condition
) -> list[Hit]:
    """Answers of 0-6 given on the day, from the feedback concept's table when it exists.

    The task's dedupe key is the feedback engine's own (f"feedback:{id}"), so the two
    never make two tasks for one answer.
    """
    table = _feedback_table()
    if table is None:
        return []
    when = next(
        (table.c[n] for n in ("answered_at", "submitted_at", "created_at") if n in table.c), None
    )
    if when is None:
        return []
    score = table.c["score"]
    query = (
        sa.select(table.c.id, table.c.customer_id, score)
        .join(Customer, Customer.id == table.c.customer_id)
        .where(
            score.is_not(None),
            score <= int(params.get("max_score", 6)),
            when >= _start(day),
            when < _start(day + timedelta(days=1)),
            cond,
        )
    )
    if "kind" in table.c:
        query = query.where(table.c.kind == str(params.get("kind", "nps")))
    return [
        Hit(
            r.customer_id,
            f"feedback:{r.id}",
            {"score": str(r.score)},
            dedupe_key=f"feedback:{r.id}",
        )
        for r in session.execute(query)
    ]


def _feedback_table() -> sa.Table | None:
    """The survey answers (keepwell.feedback), if that concept is installed."""
    try:
        import keepwell.feedback.models  # noqa: F401
    except ImportError:
        return None
    for name in ("feedback", "feedback_answers", "survey_answers", "feedback_responses"):
        table = Base.metadata.tables.get(name)
        if table is not None and {"id", "customer_id", "score"} <= set(table.c.keys()):
            return table
    return None


def score_threshold(
    session: Session, params: dict[str, Any], day: date, cond: Condition
) -> list[Hit]:
    newest = session.scalar(sa.select(sa.func.max(Score.scored_on)).where(Score.scored_on <= day))
    if newest is None:
        return []
    below = float(params.get("p_alive_below", 0.3))
    every = int(params.get("every_days", 90))
    query = (
        sa.select(Score.customer_id, Score.p_alive)
        .join(Customer, Customer.id == Score.customer_id)
        .where(Score.scored_on == newest, Score.p_alive.is_not(None), Score.p_alive < below, cond)
    )
    bucket = day.toordinal() // every
    return [
        Hit(r.customer_id, f"score:{bucket}", {"p_alive": f"{r.p_alive:.0%}"})
        for r in session.execute(query)
    ]


def product_update(
    session: Session, params: dict[str, Any], day: date, cond: Condition
) -> list[Hit]:
    hits: list[Hit] = []
    updates = session.scalars(
        sa.select(Resource).where(
            Resource.kind == "product_update",
            Resource.published_on == day,
            Resource.product.is_not(None),
        )
    )
    for update in updates:
        buyers = sa.select(Order.customer_id).where(Order.product == update.product).distinct()
        rows = session.execute(sa.select(Customer.id).where(Customer.id.in_(buyers), cond))
        values = {"title": update.title, "url": update.url, "product": update.product or ""}
        hits += [Hit(r.id, f"resource:{update.id}", values) for r in rows]
    return hits


def tier_change(session: Session, params: dict[str, Any], day: date, cond: Condition) -> list[Hit]:
    """Customers whose loyalty tier changed on the day (through keepwell.loyalty's
    `tier_changes_since`, when that concept is installed); `to_tier` keeps one tier."""
    try:
        from keepwell.loyalty.service import tier_changes_since
    except ImportError:
        return []
    to_tier = params.get("to_tier")
    end = _start(day + timedelta(days=1))
    changes = [
        c
        for c in tier_changes_since(
            session, _start(day) - timedelta(microseconds=1), to_tier=to_tier
        )
        if c.recorded_at < end
    ]
    keep = _customers(session, sorted({c.customer_id for c in changes}), cond)
    return [
        Hit(
            c.customer_id,
            f"tier:{c.id}",
            {"from_tier": c.from_tier or "", "to_tier": c.to_tier or "no tier"},
        )
        for c in changes
        if c.customer_id in keep
    ]


TRIGGERS: dict[str, Trigger] = {
    "order_placed": order_placed,
    "first_order": first_order,
    "days_after_order": days_after_order,
    "special_date": special_date,
    "tenure_milestone": tenure_milestone,
    "quiet": quiet,
    "promise_due_soon": promise_due_soon,
    "promise_overdue": promise_overdue,
    "case_resolved": case_resolved,
    "case_backlog": case_backlog,
    "survey_detractor": survey_detractor,
    "score_threshold": score_threshold,
    "product_update": product_update,
    "tier_change": tier_change,
}
