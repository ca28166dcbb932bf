"""A customer's whole record for a person: profile, owner, notes, and the timeline."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from keepwell.accounts.models import TeamMember
from keepwell.cases.models import Case
from keepwell.customers import derived
from keepwell.customers.models import Customer, SpecialDate
from keepwell.feedback.models import Feedback
from keepwell.loyalty.service import loyalty_of
from keepwell.orders.models import Order
from keepwell.promises.models import Promise
from keepwell.tasks.models import Task
from keepwell.touches.models import Touch

PROFILE_FIELDS = (
    "id", "external_id", "name", "email", "phone", "company", "segment", "tags",
    "first_seen", "personal_notes", "preferred_channel", "language", "cultural_notes",
    "birthday", "marketing_consent", "opted_out_at", "cadence_days", "last_contact_at",
    "last_outbound_at", "next_check_in_at", "order_count", "revenue_minor", "last_order_at",
)  # fmt: skip


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # order, touch, promise, case, task, feedback
    ref: str
    text: str


@dataclass
class CustomerRecord:
    profile: dict[str, Any]
    owner: str | None
    cadence_days: int
    special_dates: list[dict[str, Any]]
    timeline: list[TimelineEntry] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "owner": self.owner,
            "cadence_days": self.cadence_days,
            "special_dates": self.special_dates,
            "timeline": [asdict(e) for e in self.timeline],
        }


def customer_record(session: Session, customer: Customer, *, limit: int = 100) -> CustomerRecord:
    """The profile and the newest `limit` events of every kind, newest first."""
    owner = session.get(TeamMember, customer.owner_id) if customer.owner_id else None
    entries: list[TimelineEntry] = []
    cid = customer.id

    def newest(model: Any, column: Any) -> list[Any]:
        query = sa.select(model).where(model.customer_id == cid).order_by(column.desc())
        return list(session.scalars(query.limit(limit)))

    for order in newest(Order, Order.ordered_at):
        what = f" — {order.product}" if order.product else ""
        entries.append(
            TimelineEntry(
                order.ordered_at,
                "order",
                f"order:{order.external_id}",
                f"Ordered {order.quantity} for {order.amount_minor / 100:,.2f} {order.currency}"
                f"{what}",
            )
        )
    for touch in newest(Touch, Touch.happened_at):
        mood = f" [{touch.sentiment}]" if touch.sentiment else ""
        entries.append(
            TimelineEntry(
                touch.happened_at,
                "touch",
                f"touch:{touch.id}",
                f"{touch.direction.capitalize()} {touch.channel}{mood}: {touch.summary}",
            )
        )
    for promise in newest(Promise, Promise.made_at):
        entries.append(
            TimelineEntry(
                promise.made_at,
                "promise",
                f"promise:{promise.id}",
                f"Promised “{promise.what}” by {promise.due_at:%Y-%m-%d} — {promise.status}",
            )
        )
    for case in newest(Case, Case.opened_at):
        entries.append(
            TimelineEntry(
                case.opened_at,
                "case",
                f"case:{case.id}",
                f"Case “{case.title}” ({case.severity}) — {case.status}",
            )
        )
    for task in newest(Task, Task.created_at):
        entries.append(
            TimelineEntry(
                task.created_at,
                "task",
                f"task:{task.id}",
                f"Task due {task.due_on}: {task.reason} — {task.status}",
            )
        )
    for item in newest(Feedback, Feedback.answered_at):
        entries.append(
            TimelineEntry(item.answered_at, "feedback", f"feedback:{item.id}", item.timeline_text())
        )
    entries.sort(key=lambda e: e.at, reverse=True)
    dates = session.scalars(
        sa.select(SpecialDate).where(SpecialDate.customer_id == cid).order_by(SpecialDate.on_md)
    )
    return CustomerRecord(
        profile={
            **{name: getattr(customer, name) for name in PROFILE_FIELDS},
            "loyalty": loyalty_of(session, cid).to_dict(),  # points and tier (keepwell/loyalty)
        },
        owner=(owner.name or owner.email) if owner else None,
        cadence_days=derived.cadence_days(session.connection(), customer),
        special_dates=[
            {
                "id": d.id,
                "kind": d.kind,
                "label": d.label,
                "on": d.on_date,
                "yearly": d.yearly,
                "gesture": d.gesture,
            }
            for d in dates
        ],
        timeline=entries[:limit],
    )
