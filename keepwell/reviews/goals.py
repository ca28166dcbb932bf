"""Goals agreed with a customer: what they want to achieve with us, by when, and how it went.

A goal is open until it is met, missed or dropped (`closed_on` says when); it can be
reopened. Members make and change them; every change is in the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.accounts.models import TeamMember
from keepwell.customers.models import Customer
from keepwell.db import flush_or_conflict, get_or_raise
from keepwell.errors import InvalidInput, check_choice, check_limit, check_text
from keepwell.reviews.models import GOAL_STATUSES, Goal

MAX_WHAT = 2000
MAX_NOTES = 20_000
MAX_LIMIT = 500
MAX_YEARS_AHEAD = 20
EARLIEST = date(1900, 1, 1)
UNSET: Any = object()


def get_goal(session: Session, goal_id: int) -> Goal:
    return get_or_raise(session, Goal, goal_id, "goal")


def add_goal(
    session: Session,
    customer: Customer,
    *,
    what: str,
    target_on: date | None = None,
    notes: str = "",
    member: TeamMember | None = None,
    agreed_on: date | None = None,
) -> Goal:
    """Record a goal agreed with the customer (by `member`, default their owner)."""
    today = clock.today()
    agreed = agreed_on if agreed_on is not None else today
    if agreed > today:
        raise InvalidInput("agreed_on", f"{agreed} is in the future")
    if agreed < EARLIEST:
        raise InvalidInput("agreed_on", f"{agreed} is before {EARLIEST}")
    goal = Goal(
        customer_id=customer.id,
        member_id=member.id if member is not None else customer.owner_id,
        what=_what(what),
        agreed_on=agreed,
        target_on=_target(target_on, agreed),
        status="open",
        notes=_notes(notes),
    )
    session.add(goal)
    flush_or_conflict(session, "goal")
    return goal


def update_goal(
    session: Session,
    goal: Goal,
    *,
    what: str | None = None,
    target_on: date | None = UNSET,
    notes: str | None = None,
    status: str | None = None,
) -> Goal:
    """Change what a goal says, its target (None: no date) or its status."""
    check_choice("status", status, GOAL_STATUSES)
    if what is not None:
        goal.what = _what(what)
    if target_on is not UNSET:
        goal.target_on = _target(target_on, goal.agreed_on)
    if notes is not None:
        goal.notes = _notes(notes)
    if status is not None and status != goal.status:
        goal.status = status
        goal.closed_on = None if status == "open" else clock.today()
    flush_or_conflict(session, "goal")
    return goal


def delete_goal(session: Session, goal: Goal) -> None:
    """Forget a goal entered by mistake (a goal given up on is `dropped` instead)."""
    session.delete(goal)
    session.flush()


@dataclass(frozen=True)
class GoalFilter:
    """One definition of the goals list (CLI and API): by target date, undated last."""

    customer_id: int | None = None
    status: str | None = None
    member_id: int | None = None
    target_before: date | None = None
    limit: int = 50

    def __post_init__(self) -> None:
        check_choice("status", self.status, GOAL_STATUSES)
        check_limit(self.limit, MAX_LIMIT)

    def query(self) -> sa.Select[Any]:
        q = sa.select(Goal)
        if self.customer_id is not None:
            q = q.where(Goal.customer_id == self.customer_id)
        if self.status is not None:
            q = q.where(Goal.status == self.status)
        if self.member_id is not None:
            q = q.where(Goal.member_id == self.member_id)
        if self.target_before is not None:
            q = q.where(Goal.target_on < self.target_before)
        undated = sa.case((Goal.target_on.is_(None), 1), else_=0)
        return q.order_by(undated, Goal.target_on, Goal.id).limit(self.limit)


def list_goals(session: Session, filters: GoalFilter) -> list[Goal]:
    return list(session.scalars(filters.query()))


def goals_of(session: Session, customer_id: int) -> list[Goal]:
    """Every goal of a customer, open ones first, by target date."""
    return list(
        session.scalars(
            sa.select(Goal)
            .where(Goal.customer_id == customer_id)
            .order_by(
                sa.case((Goal.status == "open", 0), else_=1),
                sa.case((Goal.target_on.is_(None), 1), else_=0),
                Goal.target_on,
                Goal.id,
            )
        )
    )


def _what(text: str) -> str:
    return check_text("what", text, MAX_WHAT, required="say what the customer wants to achieve")


def _notes(text: str) -> str:
    return check_text("notes", text, MAX_NOTES)


def _target(target: date | None, agreed: date) -> date | None:
    if target is None:
        return None
    if target < agreed:
        raise InvalidInput("target_on", f"{target} is before the goal was agreed ({agreed})")
    if target > agreed + timedelta(days=366 * MAX_YEARS_AHEAD):
        raise InvalidInput("target_on", f"{target} is more than {MAX_YEARS_AHEAD} years ahead")
    return target
