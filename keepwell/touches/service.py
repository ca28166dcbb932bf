"""Logging interactions, and what follows from them: last contact, next check-in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.accounts.models import TeamMember
from keepwell.customers.models import Customer
from keepwell.customers.service import reschedule
from keepwell.errors import InvalidInput
from keepwell.touches.models import CHANNELS, DIRECTIONS, SENTIMENTS, Touch

MAX_SUMMARY = 20_000


def log_touch(
    session: Session,
    customer: Customer,
    *,
    channel: str,
    summary: str = "",
    member: TeamMember | None = None,
    direction: str = "outbound",
    sentiment: str | None = None,
    happened_at: datetime | None = None,
    promise_id: int | None = None,
    case_id: int | None = None,
) -> Touch:
    """Record an interaction; it moves the customer's last contact and next check-in."""
    channel = channel.strip().lower()
    if channel not in CHANNELS:
        raise InvalidInput(
            "channel", f"unknown channel {channel!r}; use one of {', '.join(CHANNELS)}"
        )
    if direction not in DIRECTIONS:
        raise InvalidInput("direction", f"use inbound or outbound, not {direction!r}")
    if sentiment is not None and sentiment not in SENTIMENTS:
        raise InvalidInput("sentiment", f"use one of {', '.join(SENTIMENTS)}")
    if len(summary) > MAX_SUMMARY:
        raise InvalidInput("summary", f"longer than {MAX_SUMMARY:,} characters")
    now = clock.now()
    when = happened_at or now
    if when.tzinfo is None:
        raise InvalidInput("happened_at", "give a time zone (or UTC)")
    if when > now + timedelta(days=1):
        raise InvalidInput("happened_at", "an interaction cannot be in the future")
    touch = Touch(
        customer_id=customer.id,
        member_id=member.id if member is not None else None,
        channel=channel,
        direction=direction,
        happened_at=when,
        summary=summary.strip(),
        sentiment=sentiment,
        promise_id=promise_id,
        case_id=case_id,
        created_at=now,
    )
    session.add(touch)
    if customer.last_contact_at is None or when > customer.last_contact_at:
        customer.last_contact_at = when
    if direction == "outbound" and (
        customer.last_outbound_at is None or when > customer.last_outbound_at
    ):
        customer.last_outbound_at = when
    reschedule(session, customer)
    session.flush()
    return touch


@dataclass(frozen=True)
class TouchFilter:
    """One definition of the touches list, for the CLI, the API and the pages."""

    customer_id: int | None = None
    member_id: int | None = None
    channel: str | None = None
    since: datetime | None = None
    limit: int = 50

    def query(self) -> sa.Select[Touch]:
        q = sa.select(Touch).order_by(Touch.happened_at.desc(), Touch.id.desc())
        if self.customer_id is not None:
            q = q.where(Touch.customer_id == self.customer_id)
        if self.member_id is not None:
            q = q.where(Touch.member_id == self.member_id)
        if self.channel:
            q = q.where(Touch.channel == self.channel)
        if self.since is not None:
            q = q.where(Touch.happened_at >= self.since)
        return q.limit(min(self.limit, 500))


def list_touches(session: Session, filters: TouchFilter) -> list[Touch]:
    return list(session.scalars(filters.query()))
