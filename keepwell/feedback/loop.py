"""Closing the loop: act on feedback and tell the customer what we did.

The loop of a piece of feedback is closed only when the customer was told
(`Feedback.told_at`). An action ("changed our courier") can answer many pieces of
feedback; closing it tells every customer whose loop is still open, one logged
interaction each, and closes each of their loops.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.accounts.models import TeamMember
from keepwell.customers.models import Customer
from keepwell.db import flush_or_conflict, get_or_raise
from keepwell.errors import InvalidInput, check_text
from keepwell.feedback.common import (
    LABELS,
    MAX_LINKED,
    MAX_WHAT,
    check_channel,
    check_moment,
    clean_note,
    customer_of,
)
from keepwell.feedback.models import (
    SCORE_RANGES,
    Feedback,
    FeedbackAction,
    FeedbackActionLink,
)
from keepwell.touches.service import log_touch


def add_action(
    session: Session,
    what: str,
    feedback: Sequence[Feedback] = (),
    *,
    member: TeamMember | None = None,
) -> FeedbackAction:
    """Record what we do about some feedback ("changed our courier"), linked to it."""
    squeezed = " ".join(what.split()) if isinstance(what, str) else ""
    what = check_text("what", squeezed, MAX_WHAT, required="say what was done, or will be")
    action = FeedbackAction(
        what=what, member_id=member.id if member is not None else None, created_at=clock.now()
    )
    session.add(action)
    session.flush()
    link(session, action, feedback)
    return action


def link(session: Session, action: FeedbackAction, feedback: Sequence[Feedback]) -> int:
    """Link more feedback to the action (ones linked already are left as they are);
    returns how many links are new."""
    if len(feedback) > MAX_LINKED:
        raise InvalidInput("feedback_ids", f"at most {MAX_LINKED} at once")
    have = set(linked_ids(session, action.id))
    added = 0
    now = clock.now()
    for item in feedback:
        if item.id in have:
            continue
        have.add(item.id)
        session.add(FeedbackActionLink(action_id=action.id, feedback_id=item.id, linked_at=now))
        added += 1
    session.flush()
    return added


def feedback_by_ids(
    session: Session, ids: Iterable[int], field: str = "feedback_ids"
) -> list[Feedback]:
    """The feedback these ids name, in the order given; an unknown id is bad input."""
    wanted = list(dict.fromkeys(ids))
    if len(wanted) > MAX_LINKED:
        raise InvalidInput(field, f"at most {MAX_LINKED} at once")
    found = {f.id: f for f in session.scalars(sa.select(Feedback).where(Feedback.id.in_(wanted)))}
    missing = [i for i in wanted if i not in found]
    if missing:
        raise InvalidInput(field, f"no feedback #{missing[0]}")
    return [found[i] for i in wanted]


def linked_ids(session: Session, action_id: int) -> list[int]:
    query = (
        sa.select(FeedbackActionLink.feedback_id)
        .where(FeedbackActionLink.action_id == action_id)
        .order_by(FeedbackActionLink.feedback_id)
    )
    return list(session.scalars(query))


def actions_of(session: Session, feedback_id: int) -> list[FeedbackAction]:
    """The actions linked to one piece of feedback, oldest first."""
    query = (
        sa.select(FeedbackAction)
        .join(FeedbackActionLink, FeedbackActionLink.action_id == FeedbackAction.id)
        .where(FeedbackActionLink.feedback_id == feedback_id)
        .order_by(FeedbackAction.created_at, FeedbackAction.id)
    )
    return list(session.scalars(query))


def tell(
    session: Session,
    feedback: Feedback,
    *,
    note: str,
    channel: str = "email",
    member: TeamMember | None = None,
    at: datetime | None = None,
) -> Feedback:
    """The customer was told what we did about their feedback: the loop closes, and
    the telling is logged as an outbound interaction (on their timeline)."""
    if feedback.told_at is not None:
        raise InvalidInput(
            "feedback", f"the customer was told already on {feedback.told_at:%Y-%m-%d}"
        )
    note = clean_note(note)
    if not note:
        raise InvalidInput("note", "say what the customer was told")
    channel = check_channel(channel)
    when = check_moment("at", at, clock.now())
    customer = customer_of(session, feedback.customer_id)
    _tell_customer(session, customer, [feedback], note, channel, member, when)
    return feedback


@dataclass(frozen=True)
class Closed:
    """What closing an action did: the feedback whose loops it closed, and the
    customers it told (one interaction each); `already` were told before."""

    action: FeedbackAction
    told: list[Feedback]
    customers: int
    already: int


def close_action(
    session: Session,
    action: FeedbackAction,
    *,
    note: str = "",
    channel: str = "email",
    member: TeamMember | None = None,
    at: datetime | None = None,
) -> Closed:
    """The action is done: tell every customer whose linked feedback is still open
    (one logged interaction per customer), closing each of those loops.

    Closing again tells those linked since; with nobody left to tell it is refused.
    """
    note = clean_note(note)
    channel = check_channel(channel)
    when = check_moment("at", at, clock.now())
    ids = linked_ids(session, action.id)
    if not ids:
        raise InvalidInput("action", f"action #{action.id} answers no feedback: link some first")
    items = list(
        session.scalars(
            sa.select(Feedback)
            .where(Feedback.id.in_(ids))
            .order_by(Feedback.customer_id, Feedback.id)
            .with_for_update()
        )
    )
    waiting = [f for f in items if f.told_at is None]
    if not waiting and action.done_at is not None:
        raise InvalidInput("action", f"action #{action.id} is closed and everyone was told")
    message = action.what + (f" — {note}" if note else "")
    by_customer: dict[int, list[Feedback]] = {}
    for item in waiting:
        by_customer.setdefault(item.customer_id, []).append(item)
    for customer_id, theirs in by_customer.items():
        customer = get_or_raise(session, Customer, customer_id, "customer", lock=True)
        _tell_customer(session, customer, theirs, message, channel, member, when)
    if action.done_at is None:
        action.done_at = when
    flush_or_conflict(session, "feedback action")
    return Closed(action, waiting, len(by_customer), len(items) - len(waiting))


def _tell_customer(
    session: Session,
    customer: Customer,
    items: list[Feedback],
    note: str,
    channel: str,
    member: TeamMember | None,
    when: datetime,
) -> None:
    about = ", ".join(_describe_score(f) for f in items)
    touch = log_touch(
        session,
        customer,
        channel=channel,
        summary=f"Told them what we did about their feedback ({about}): {note}",
        member=member,
        direction="outbound",
        happened_at=when,
    )
    for item in items:
        item.told_at = when
        item.told_channel = channel
        item.told_note = note
        item.told_by_id = member.id if member is not None else None
        item.told_touch_id = touch.id
    flush_or_conflict(session, "feedback")


def _describe_score(feedback: Feedback) -> str:
    label = LABELS.get(feedback.kind, feedback.kind)
    if feedback.score is not None:
        high = SCORE_RANGES[feedback.kind][1]
        return f"{label} {feedback.score}/{high}"
    return f"{label} of {feedback.answered_at:%Y-%m-%d}"
