"""Contact pressure: how many automatic messages a customer may get, and when.

One budget covers every automatic message, whatever sent it (a playbook, a resource
passed on, a note a person wrote and the desk sends): at most `messages` per customer in
any `days` days (default 2 in 14). Messages queued, sent or failing count; cancelled ones
do not. Quiet hours (default 20:00-08:00 in the desk's time zone) hold messages back
until the morning. Both are desk settings (`outreach.budget`, `outreach.quiet_hours`,
`desk.timezone`), read with their defaults.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.orm import Session

from keepwell.customers.models import Customer
from keepwell.errors import InvalidInput
from keepwell.outreach.models import Message
from keepwell.settings import service as settings

BUDGET_KEY = "outreach.budget"
QUIET_KEY = "outreach.quiet_hours"
TIMEZONE_KEY = "desk.timezone"
DEFAULT_BUDGET = {"messages": 2, "days": 14}
DEFAULT_QUIET = {"start": "20:00", "end": "08:00"}
COUNTED = ("queued", "sending", "sent", "unconfirmed", "failed")  # all but cancelled


@dataclass(frozen=True)
class Budget:
    messages: int
    days: int


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time
    zone: ZoneInfo

    def contains(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone).time()
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_open(self, moment: datetime) -> datetime:
        """`moment`, or the end of the quiet hours it falls in."""
        if not self.contains(moment):
            return moment
        local = moment.astimezone(self.zone)
        end = datetime.combine(local.date(), self.end, self.zone)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.end, self.zone)
        return end.astimezone(moment.tzinfo)


def budget(session: Session) -> Budget:
    raw = settings.get(session, BUDGET_KEY, DEFAULT_BUDGET)
    return check_budget(raw.get("messages"), raw.get("days"))


def check_budget(messages: object, days: object) -> Budget:
    if not isinstance(messages, int) or isinstance(messages, bool) or not 0 <= messages <= 100:
        raise InvalidInput("messages", "give 0 to 100 messages")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 366:
        raise InvalidInput("days", "give 1 to 366 days")
    return Budget(messages, days)


def set_budget(session: Session, messages: int, days: int) -> Budget:
    checked = check_budget(messages, days)
    settings.put(session, BUDGET_KEY, {"messages": checked.messages, "days": checked.days})
    return checked


def quiet_hours(session: Session) -> QuietHours:
    raw = settings.get(session, QUIET_KEY, DEFAULT_QUIET)
    zone = settings.get(session, TIMEZONE_KEY, "UTC")
    return check_quiet(raw.get("start", ""), raw.get("end", ""), zone)


def check_quiet(start: str, end: str, zone: str) -> QuietHours:
    try:
        first, last = time.fromisoformat(start), time.fromisoformat(end)
    except (TypeError, ValueError):
        raise InvalidInput("quiet_hours", "give start and end as HH:MM") from None
    try:
        where = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise InvalidInput("timezone", f"unknown time zone {zone!r}") from None
    return QuietHours(first, last, where)


def set_quiet_hours(session: Session, start: str, end: str, zone: str) -> QuietHours:
    checked = check_quiet(start, end, zone)
    settings.put(session, QUIET_KEY, {"start": start, "end": end})
    settings.put(session, TIMEZONE_KEY, zone)
    return checked


def used(
    session: Session, customer_ids: Iterable[int], now: datetime, rule: Budget
) -> dict[int, int]:
    """How many counted messages each customer had queued in the budget's window."""
    ids = sorted(set(customer_ids))
    if not ids:
        return {}
    since = now - timedelta(days=rule.days)
    rows = session.execute(
        sa.select(Message.customer_id, sa.func.count())
        .where(
            Message.customer_id.in_(ids),
            Message.queued_at > since,
            Message.status.in_(COUNTED),
        )
        .group_by(Message.customer_id)
    )
    return {cid: int(n) for cid, n in rows}


def may_email(customer: Customer, category: str) -> str | None:
    """Why the customer may not get this message automatically (None: they may)."""
    if not customer.email or "@" not in customer.email:
        return "no e-mail address"
    if customer.opted_out_at is not None:
        return "opted out"
    if category == "marketing" and not customer.marketing_consent:
        return "no marketing consent"
    return None
