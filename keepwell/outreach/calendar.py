"""Each member's private calendar feed (ICS): their open tasks, open promises and the
birthdays, anniversaries and special dates of their customers.

The feed's URL holds a random secret (/ics/{token}.ics); only its SHA-256 is stored.
Making a new URL revokes the old one (rotate); a revoked URL answers 404. The ICS text
is written here (RFC 5545: CRLF lines, escaped text, lines folded at 75 octets): a few
lines that need no library.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.accounts.models import TeamMember
from keepwell.customers.models import Customer
from keepwell.customers.special_dates import upcoming
from keepwell.errors import NotFound
from keepwell.outreach.models import CalendarFeed
from keepwell.promises.models import Promise
from keepwell.tasks.models import Task

DAYS_AHEAD = 60
MAX_ITEMS = 2000


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_feed(session: Session, member: TeamMember) -> str:
    """A new secret feed token for `member` (shown once); their older feeds stop working."""
    revoke_feeds(session, member)
    token = secrets.token_urlsafe(24)
    session.add(CalendarFeed(member_id=member.id, token_hash=_hash(token), created_at=clock.now()))
    session.flush()
    return token


def revoke_feeds(session: Session, member: TeamMember) -> int:
    feeds = session.scalars(
        sa.select(CalendarFeed).where(
            CalendarFeed.member_id == member.id, CalendarFeed.revoked_at.is_(None)
        )
    ).all()
    for feed in feeds:
        feed.revoked_at = clock.now()
    session.flush()
    return len(feeds)


def member_for_token(session: Session, token: str) -> TeamMember:
    refused = NotFound("no such calendar")
    if not token or len(token) > 100:
        raise refused
    feed = session.scalar(
        sa.select(CalendarFeed).where(
            CalendarFeed.token_hash == _hash(token), CalendarFeed.revoked_at.is_(None)
        )
    )
    member = session.get(TeamMember, feed.member_id) if feed is not None else None
    if member is None or not member.active:
        raise refused
    return member


# Line breaks as a text value writes them: CR LF, CR, LF, and what word processors put
# for a line break within a paragraph (vertical tab) or a page break (form feed).
_BREAK = re.compile(r"\r\n|[\r\n\x0b\x0c]")
# What RFC 5545 allows in no text value: every control character but the tab.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _escape(text: str) -> str:
    """A TEXT value (RFC 5545, 3.3.11): backslash, semicolon and comma escaped, line
    breaks written as the two characters `\\n`, and no other control character (a tab
    stays: the one the RFC allows)."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return _CONTROL.sub("", _BREAK.sub(r"\\n", text))


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space."""
    raw = line.encode()
    if len(raw) <= 75:
        return line
    parts, start = [], 0
    while start < len(raw):
        end = min(start + (75 if start == 0 else 74), len(raw))
        while end < len(raw) and (raw[end] & 0xC0) == 0x80:  # never split a character
            end -= 1
        parts.append(raw[start:end].decode())
        start = end
    return "\r\n ".join(parts)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _event(
    uid: str, summary: str, description: str, *, day: date | None = None, at: datetime | None = None
) -> list[str]:
    lines = ["BEGIN:VEVENT", f"UID:{uid}", f"DTSTAMP:{_stamp(clock.now())}"]
    if day is not None:
        lines += [
            f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
            f"DTEND;VALUE=DATE:{day + timedelta(days=1):%Y%m%d}",
        ]
    elif at is not None:
        lines += [f"DTSTART:{_stamp(at)}", f"DTEND:{_stamp(at + timedelta(minutes=30))}"]
    lines += [f"SUMMARY:{_escape(summary)}", f"DESCRIPTION:{_escape(description)}", "END:VEVENT"]
    return lines


def render(session: Session, member: TeamMember) -> str:
    """The member's calendar as ICS text."""
    today = clock.today()
    names: dict[int, str] = {}

    def name(customer_id: int) -> str:
        if customer_id not in names:
            found = session.get(Customer, customer_id)
            names[customer_id] = (found.name if found else "") or f"customer #{customer_id}"
        return names[customer_id]

    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Keepwell//Desk calendar//EN",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{_escape('Keepwell: ' + (member.name or member.email))}",
    ]
    tasks = session.scalars(
        sa.select(Task)
        .where(Task.member_id == member.id, Task.status == "open")
        .order_by(Task.due_on, Task.id)
        .limit(MAX_ITEMS)
    )
    for task in tasks:
        lines += _event(
            f"task-{task.id}@keepwell",
            f"{task.kind.replace('_', ' ')}: {name(task.customer_id)}",
            f"{task.reason}\n{task.context}".strip(),
            day=task.due_on,
        )
    promises = session.scalars(
        sa.select(Promise)
        .where(Promise.member_id == member.id, Promise.status == "open")
        .order_by(Promise.due_at, Promise.id)
        .limit(MAX_ITEMS)
    )
    for promise in promises:
        lines += _event(
            f"promise-{promise.id}@keepwell",
            f"Promise due: {name(promise.customer_id)}",
            promise.what,
            at=promise.due_at,
        )
    for item in upcoming(session, today=today, days_ahead=DAYS_AHEAD, member_id=member.id):
        label = item.label or item.kind.replace("_", " ")
        lines += _event(
            f"date-{item.kind}-{item.special_date_id or item.customer_id}-{item.on:%Y}@keepwell",
            f"{label}: {item.customer_name}",
            item.gesture or "",
            day=item.on,
        )
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
