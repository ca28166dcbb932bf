"""A person's data on request: everything held about them (export), or forgotten (erase).

Erasing removes personal data everywhere — the profile, notes, what was said in
interactions, promises, cases and tasks, special dates — and, unless asked to keep
them, the orders. With `keep_orders` (the default) the orders stay, detached from any
person, so revenue and retention figures remain true. The customer row stays as an
anonymous tombstone: its external id is replaced by a one-way hash of it, so that a
later re-import of an old file does not bring the person back unless confirmed
(`--allow-erased`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.accounts.models import TeamMember
from keepwell.cases.models import Case
from keepwell.customers.models import Customer, OwnerChange, SpecialDate
from keepwell.errors import InvalidInput
from keepwell.feedback.models import Feedback, SurveyInvitation
from keepwell.orders.models import Order
from keepwell.outreach.models import Message
from keepwell.promises.models import Promise, PromiseUpdate
from keepwell.reviews.privacy import erase_advocacy, export_advocacy
from keepwell.tasks.models import Task
from keepwell.touches.models import Touch

ERASED = "(erased)"
TOMBSTONE = "erased:"


def tombstone(key: str) -> str:
    """The mark an erased customer leaves under their former id or e-mail."""
    return TOMBSTONE + hashlib.sha256(key.strip().lower().encode()).hexdigest()[:40]


def is_erased(customer: Customer) -> bool:
    return bool(customer.external_id and customer.external_id.startswith(TOMBSTONE))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _rows(session: Session, model: Any, *where: Any) -> list[dict[str, Any]]:
    columns = model.__table__.columns
    found = session.scalars(sa.select(model).where(*where).order_by(model.id))
    return [{c.name: _plain(getattr(row, c.key)) for c in columns} for row in found]


def export_customer(session: Session, customer: Customer) -> dict[str, Any]:
    """Everything Keepwell holds about one person, as plain JSON-ready data."""
    cid = customer.id
    promises = _rows(session, Promise, Promise.customer_id == cid)
    ids = [p["id"] for p in promises]
    owner = session.get(TeamMember, customer.owner_id) if customer.owner_id else None
    return {
        "exported_at": clock.now().isoformat(),
        "customer": {c.name: _plain(getattr(customer, c.key)) for c in Customer.__table__.columns},
        "owner": {"name": owner.name, "email": owner.email} if owner else None,
        "special_dates": _rows(session, SpecialDate, SpecialDate.customer_id == cid),
        "orders": _rows(session, Order, Order.customer_id == cid),
        "interactions": _rows(session, Touch, Touch.customer_id == cid),
        "promises": promises,
        "promise_updates": _rows(session, PromiseUpdate, PromiseUpdate.promise_id.in_(ids)),
        "cases": _rows(session, Case, Case.customer_id == cid),
        "tasks": _rows(session, Task, Task.customer_id == cid),
        "owner_changes": _rows(session, OwnerChange, OwnerChange.customer_id == cid),
        **export_advocacy(session, cid),  # goals, reviews, referrals, loyalty
        "survey_invitations": _rows(session, SurveyInvitation, SurveyInvitation.customer_id == cid),
        "feedback": _rows(session, Feedback, Feedback.customer_id == cid),
        "messages": _rows(session, Message, Message.customer_id == cid),  # e-mails sent or queued
    }


@dataclass(frozen=True)
class Erasure:
    """What an erasure did (no personal data: counts only)."""

    customer_id: int
    erased_at: datetime
    orders_kept: int
    orders_deleted: int
    interactions: int
    promises: int
    cases: int
    tasks: int
    special_dates: int
    feedback: int = 0  # answers kept as scores only: their words and what they were told go


def erase_customer(session: Session, customer: Customer, *, keep_orders: bool = True) -> Erasure:
    """Forget a person: personal data removed everywhere, an anonymous tombstone left."""
    if is_erased(customer):
        raise InvalidInput("customer", f"customer #{customer.id} was erased already")
    cid = customer.id
    now = clock.now()

    def scrub(model: Any, *where: Any, **values: Any) -> int:
        return _count(session.execute(sa.update(model).where(*where).values(**values)))

    def remove(model: Any, *where: Any) -> int:
        return _count(session.execute(sa.delete(model).where(*where)))

    interactions = scrub(Touch, Touch.customer_id == cid, summary=ERASED, sentiment=None)
    promise_ids = select_ids(session, Promise, Promise.customer_id == cid)
    scrub(PromiseUpdate, PromiseUpdate.promise_id.in_(promise_ids), note=ERASED)
    promises = scrub(Promise, Promise.customer_id == cid, what=ERASED, outcome="")
    cases = scrub(
        Case, Case.customer_id == cid, title=ERASED, description="", root_cause="", resolution=""
    )
    tasks = scrub(Task, Task.customer_id == cid, reason=ERASED, context="", outcome="")
    special = remove(SpecialDate, SpecialDate.customer_id == cid)
    erase_advocacy(session, cid)
    feedback = scrub(Feedback, Feedback.customer_id == cid, verbatim="", told_note="")
    remove(SurveyInvitation, SurveyInvitation.customer_id == cid)  # their links open nothing
    remove(Message, Message.customer_id == cid)  # the e-mails' words, and what never left
    if keep_orders:
        kept = scrub(Order, Order.customer_id == cid, description=None)
        deleted = 0
    else:
        kept = 0
        deleted = remove(Order, Order.customer_id == cid)
    # The tombstone: marks of the former id and e-mail where they were (one-way hashes).
    customer.external_id = tombstone(customer.external_id or f"#{cid}")
    customer.email = tombstone(customer.email) if customer.email else None
    for name in ("phone", "company", "personal_notes", "preferred_channel",
                 "language", "cultural_notes", "birthday", "birthday_md", "opted_out_at",
                 "first_seen", "anniversary_md"):  # fmt: skip
        setattr(customer, name, None)
    customer.name = ERASED
    customer.tags = []
    customer.segment = None
    customer.marketing_consent = False
    customer.next_check_in_at = None  # never again on an agenda
    session.flush()
    # The audit trail keeps that each change happened, by whom and when, but no longer
    # what it said about this person (names, notes, verbatims, the erasure's own before).
    from keepwell.accounts.models import AuditEntry

    session.execute(
        sa.update(AuditEntry)
        .where(AuditEntry.customer_id == cid)
        .values(before=sa.null(), after=sa.null())
        .execution_options(synchronize_session=False)
    )
    return Erasure(
        customer_id=cid, erased_at=now, orders_kept=kept, orders_deleted=deleted,
        interactions=interactions, promises=promises, cases=cases, tasks=tasks,
        special_dates=special, feedback=feedback,
    )  # fmt: skip


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def select_ids(session: Session, model: Any, *where: Any) -> list[int]:
    return list(session.scalars(sa.select(model.id).where(*where)))


def erased_keys(session: Any, keys: list[str]) -> set[str]:
    """Which of these customer ids or e-mails belong to someone who was erased."""
    if not keys:
        return set()
    by_mark = {tombstone(k): k for k in keys}
    table = Customer.__table__
    found: set[str] = set()
    marks = list(by_mark)
    for i in range(0, len(marks), 900):
        part = marks[i : i + 900]
        query = sa.select(table.c.external_id, table.c.email).where(
            sa.or_(table.c.external_id.in_(part), table.c.email.in_(part))
        )
        for external_id, email in session.execute(query):
            for mark in (external_id, email):
                if mark in by_mark:
                    found.add(by_mark[mark])
    return found
