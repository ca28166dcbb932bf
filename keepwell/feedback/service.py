"""Feedback as a list: the filter every list uses (pages, API, CLI), how each piece is
described, a customer's scorecards, and the latest scores for health and lifecycle.

The other rooms: surveys (invitations, links), answers (recording, follow-up), loop
(actions, telling the customer); what they share is in common.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from keepwell.accounts.models import TeamMember
from keepwell.customers.models import Customer
from keepwell.errors import InvalidInput, check_choice, check_limit
from keepwell.errors import require_aware as _require_aware
from keepwell.feedback.common import MAX_LIMIT, aware
from keepwell.feedback.models import (
    CUSTOMER_CATEGORIES,
    KINDS,
    OUR_CATEGORIES,
    SCORE_RANGES,
    Feedback,
    FeedbackActionLink,
)

LOOPS = ("open", "closed")


@dataclass(frozen=True)
class FeedbackFilter:
    """One definition of the feedback list, for the CLI and the API.

    Scores bound NPS and CSAT answers (scorecards have none, and drop out when a bound
    is given). `owner_id` is the customer's point person; `loop` open or closed;
    `since` answered at or after. Newest first.
    """

    kind: str | None = None
    min_score: int | None = None
    max_score: int | None = None
    customer_id: int | None = None
    owner_id: int | None = None
    loop: str | None = None
    since: datetime | None = None
    limit: int = 50

    def __post_init__(self) -> None:
        check_choice("kind", self.kind, KINDS)
        check_choice("loop", self.loop, LOOPS)
        check_limit(self.limit, MAX_LIMIT)
        for name in ("min_score", "max_score"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 10:
                raise InvalidInput(name, f"give 0 to 10, not {value}")
        if (
            self.min_score is not None
            and self.max_score is not None
            and self.min_score > self.max_score
        ):
            raise InvalidInput("max_score", "must not be below min_score")
        if self.since is not None:
            _require_aware("since", self.since)

    def query(self) -> sa.Select[Feedback]:
        q = sa.select(Feedback)
        if self.kind is not None:
            q = q.where(Feedback.kind == self.kind)
        if self.min_score is not None:
            q = q.where(Feedback.score >= self.min_score)
        if self.max_score is not None:
            q = q.where(Feedback.score <= self.max_score)
        if self.customer_id is not None:
            q = q.where(Feedback.customer_id == self.customer_id)
        if self.owner_id is not None:
            owned = sa.select(Customer.id).where(Customer.owner_id == self.owner_id)
            q = q.where(Feedback.customer_id.in_(owned))
        if self.loop == "open":
            q = q.where(Feedback.told_at.is_(None))
        elif self.loop == "closed":
            q = q.where(Feedback.told_at.is_not(None))
        if self.since is not None:
            q = q.where(Feedback.answered_at >= self.since)
        return q.order_by(Feedback.answered_at.desc(), Feedback.id.desc()).limit(self.limit)


def list_feedback(session: Session, filters: FeedbackFilter) -> list[Feedback]:
    return list(session.scalars(filters.query()))


def describe(session: Session, items: Sequence[Feedback]) -> list[dict[str, Any]]:
    """Feedback as plain data with the customer's name and owner and the actions
    linked (for JSON and tables alike): four queries, however many."""
    customer_ids = {f.customer_id for f in items}
    customers: dict[int, tuple[str, int | None]] = {}
    if customer_ids:
        query = sa.select(Customer.id, Customer.name, Customer.owner_id).where(
            Customer.id.in_(customer_ids)
        )
        customers = {cid: (name, owner) for cid, name, owner in session.execute(query)}
    member_ids = {o for _, o in customers.values() if o is not None}
    member_ids |= {f.told_by_id for f in items if f.told_by_id is not None}
    member_ids |= {f.member_id for f in items if f.member_id is not None}
    emails: dict[int, str] = {}
    if member_ids:
        query2 = sa.select(TeamMember.id, TeamMember.email).where(TeamMember.id.in_(member_ids))
        emails = {mid: email for mid, email in session.execute(query2)}
    actions: dict[int, list[int]] = {}
    if items:
        query3 = sa.select(FeedbackActionLink.feedback_id, FeedbackActionLink.action_id).where(
            FeedbackActionLink.feedback_id.in_([f.id for f in items])
        )
        for feedback_id, action_id in session.execute(query3):
            actions.setdefault(feedback_id, []).append(action_id)

    def email(member_id: int | None) -> str | None:
        return emails.get(member_id) if member_id is not None else None

    return [
        {
            "id": f.id,
            "customer_id": f.customer_id,
            "customer": customers.get(f.customer_id, ("", None))[0],
            "owner": email(customers.get(f.customer_id, ("", None))[1]),
            "kind": f.kind,
            "score": f.score,
            "ratings": f.ratings,
            "verbatim": f.verbatim,
            "answered_at": f.answered_at.isoformat(),
            "source": f.source,
            "invitation_id": f.invitation_id,
            "recorded_by": email(f.member_id),
            "case_id": f.case_id,
            "order_id": f.order_id,
            "loop": "closed" if f.told_at is not None else "open",
            "told_at": f.told_at.isoformat() if f.told_at else None,
            "told_channel": f.told_channel,
            "told_note": f.told_note,
            "told_by": email(f.told_by_id),
            "action_ids": sorted(actions.get(f.id, [])),
            "version": f.version,
        }
        for f in items
    ]


def scorecards(session: Session, customer: Customer) -> dict[str, Any]:
    """Both sides of the two-way scorecard, the latest of each, side by side."""

    def latest(kind: str) -> Feedback | None:
        return session.scalar(
            sa.select(Feedback)
            .where(Feedback.customer_id == customer.id, Feedback.kind == kind)
            .order_by(Feedback.answered_at.desc(), Feedback.id.desc())
            .limit(1)
        )

    def side(found: Feedback | None, categories: dict[str, str]) -> dict[str, Any] | None:
        if found is None:
            return None
        ratings = found.ratings or {}
        values = [ratings[c] for c in categories if c in ratings]
        return {
            "feedback_id": found.id,
            "answered_at": found.answered_at.isoformat(),
            "ratings": {c: ratings.get(c) for c in categories},
            "labels": categories,
            "mean": round(sum(values) / len(values), 2) if values else None,
            "comment": found.verbatim,
        }

    return {
        "customer_id": customer.id,
        "customer": customer.name,
        "theirs": side(latest("scorecard"), CUSTOMER_CATEGORIES),
        "ours": side(latest("relationship"), OUR_CATEGORIES),
    }



# --- for health and lifecycle ------------------------------------------------------------


def latest_scores(
    session: Session, customer_ids: Iterable[int], *, kinds: tuple[str, ...] = ("nps", "csat")
) -> dict[int, tuple[str, int, datetime]]:
    """Each customer's newest scored answer of `kinds`: (kind, score, answered_at).

    Customers without one are left out. Pass kinds=("nps",) for the latest NPS only
    (a promoter is an advocate).
    """
    for kind in kinds:
        check_choice("kinds", kind, tuple(SCORE_RANGES))
    ids = sorted(set(customer_ids))
    result: dict[int, tuple[str, int, datetime]] = {}
    for start in range(0, len(ids), 900):
        part = ids[start : start + 900]
        rank = (
            sa.func.row_number()
            .over(
                partition_by=Feedback.customer_id,
                order_by=(Feedback.answered_at.desc(), Feedback.id.desc()),
            )
            .label("rank")
        )
        inner = (
            sa.select(
                Feedback.customer_id, Feedback.kind, Feedback.score, Feedback.answered_at, rank
            )
            .where(
                Feedback.customer_id.in_(part),
                Feedback.kind.in_(kinds),
                Feedback.score.is_not(None),
            )
            .subquery()
        )
        query = sa.select(inner.c.customer_id, inner.c.kind, inner.c.score, inner.c.answered_at)
        for customer_id, kind, score, answered_at in session.execute(
            query.where(inner.c.rank == 1)
        ):
            result[customer_id] = (kind, int(score), aware(answered_at))
    return result
