"""Delivering the outbox: each message handed to an SMTP server at most once.

Every message goes through three steps, each its own committed transaction or none:

1. **Claim** (a transaction): `queued`/`failed` and due → `sending`, with the claim's
   time and owner (host:pid:nonce) and its Message-ID (fixed at the first claim, kept
   for every attempt). The claim is one conditional UPDATE: of two senders at once
   (two `keepwell outreach send`, or the server's scheduler and a command) exactly one
   changes the row, on SQLite and on PostgreSQL alike; the other leaves the message.
   The consent is checked again here (an opt-out since queueing cancels it).
2. **Hand over** (no transaction is open): keepwell.outreach.transport talks to the
   server and says whether the server accepted the message, surely did not, or may have.
3. **Record** (a transaction): accepted → `sent`, and the outbound e-mail on the
   customer's timeline; not accepted → `failed`, retried with a growing wait (5
   minutes, doubling, at most 6 hours) up to MAX_ATTEMPTS times, then it waits for
   `keepwell outreach retry`; may have been accepted → `unconfirmed`.

A sender that dies between the server's acceptance and step 3 leaves the message
`sending`. No sender ever claims a `sending` message again: the next round makes it
`unconfirmed` once its owner is known to be gone (a process of this host that no
longer runs) or the claim is older than CLAIM_LIMIT. An unconfirmed message is never
sent again automatically: an admin looks its Message-ID up in the mail server's log
and confirms it (`keepwell outreach confirm`) or sends it again (`… retry`).
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.accounts.models import TeamMember
from keepwell.customers.models import Customer
from keepwell.outreach import budget as pressure
from keepwell.outreach.mail import (
    SmtpConfig,
    desk_name,
    record_sent,
    smtp_config,
    unsubscribe_url,
)
from keepwell.outreach.models import Message
from keepwell.outreach.transport import NotAccepted, OutcomeUnknown, Transport, smtp_send

MAX_ATTEMPTS = 10
FIRST_WAIT = timedelta(minutes=5)
LONGEST_WAIT = timedelta(hours=6)
# A claim older than this has outlived any SMTP conversation (each step times out
# after 20 seconds): its outcome is unknown.
CLAIM_LIMIT = timedelta(minutes=10)
WAITING = ("queued", "failed")
RECORD_TRIES = 3
# Fault injection for tests/outreach/test_at_most_once.py: with this variable set, the
# process exits at once (os._exit, no clean-up) right after a server accepted a
# message, before it is recorded as sent: the crash the claim exists for.
CRASH_AFTER_HANDOFF = "KEEPWELL_TEST_CRASH_AFTER_HANDOFF"


@dataclass
class Delivery:
    """What one delivery round did."""

    sent: int = 0
    failed: int = 0
    cancelled: int = 0
    waiting: int = 0  # due, but held back (quiet hours, SMTP not configured)
    unconfirmed: int = 0  # found this round whose outcome is unknown (never sent again)
    note: str = ""


def due_query(now: datetime) -> sa.Select[int]:
    return (
        sa.select(Message.id)
        .where(
            Message.status.in_(WAITING),
            Message.next_attempt_at.is_not(None),
            Message.next_attempt_at <= now,
        )
        .order_by(Message.next_attempt_at, Message.id)
    )


def claim_owner() -> str:
    """Who claims, in `claimed_by`: this host, this process, and a nonce for this round."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(4)}"


def deliver(
    open_session: Callable[[], Session],
    *,
    limit: int = 200,
    transport: Transport = smtp_send,
) -> Delivery:
    """Send the messages that are due, each at most once (claim, hand over, record).

    `open_session` makes a session (a sessionmaker over a writer engine); every step
    commits on its own, and no transaction stays open while the server is talked to.
    """
    report = Delivery()
    now = clock.now()
    owner = claim_owner()
    with open_session() as session, session.begin():
        report.unconfirmed += settle_abandoned(session, now)
        config = smtp_config(session)
        quiet = pressure.quiet_hours(session)
        ids = list(session.scalars(due_query(now).limit(limit)))
    if not ids:
        return report
    if not config.configured:
        report.waiting, report.note = len(ids), "SMTP is not configured (KEEPWELL_SMTP_HOST, _FROM)"
        return report
    if quiet.contains(now):
        report.waiting, report.note = len(ids), "quiet hours"
        return report
    for message_id in ids:
        with open_session() as session, session.begin():
            email = _claim(session, message_id, owner, config, report)
        if email is None:
            continue  # another sender has it, or it was cancelled
        try:
            transport(config, email)
        except NotAccepted as exc:
            _record(open_session, _refused, message_id, owner, report, str(exc))
            continue
        except Exception as exc:  # OutcomeUnknown, or a failure of any other kind
            _record(open_session, _unconfirmed, message_id, owner, report, _unknown(exc))
            if isinstance(exc, OutcomeUnknown):
                continue
            raise
        if os.environ.get(CRASH_AFTER_HANDOFF):
            os._exit(70)
        _record(open_session, _accepted, message_id, owner, report, "")
    return report


def _unknown(exc: Exception) -> str:
    why = str(exc) if isinstance(exc, OutcomeUnknown) else f"{type(exc).__name__}: {exc}"
    return f"the server may have accepted it ({why})"[:2000]


# --- the steps ----------------------------------------------------------------------


def _claim(
    session: Session, message_id: int, owner: str, config: SmtpConfig, report: Delivery
) -> EmailMessage | None:
    """Claim the message for `owner` (None: another sender has it, or it is not due any
    more), check the consent again, and make the e-mail it will be."""
    now = clock.now()
    fresh_id = make_msgid(domain=config.sender.rpartition("@")[2] or None)
    claimed = session.execute(
        sa.update(Message)
        .where(
            Message.id == message_id,
            Message.status.in_(WAITING),
            Message.next_attempt_at.is_not(None),
            Message.next_attempt_at <= now,
        )
        .values(
            status="sending",
            claimed_at=now,
            claimed_by=owner,
            message_id_header=sa.func.coalesce(Message.message_id_header, fresh_id),
        )
        .execution_options(synchronize_session=False)
    )
    if cast("sa.CursorResult[Any]", claimed).rowcount != 1:
        return None
    message = session.get_one(Message, message_id, populate_existing=True)
    customer = session.get(Customer, message.customer_id)
    why_not = pressure.may_email(customer, message.category) if customer else "customer gone"
    if customer is None or why_not is not None:
        message.status, message.next_attempt_at = "cancelled", None
        message.last_error = f"not sent: {why_not}"
        report.cancelled += 1
        return None
    message.attempts += 1
    owner_member = session.get(TeamMember, message.member_id) if message.member_id else None
    return _email(session, message, config, owner_member)


Recorder = Callable[[Session, Message, Delivery, str], None]


def _record(
    open_session: Callable[[], Session],
    recorder: Recorder,
    message_id: int,
    owner: str,
    report: Delivery,
    why: str,
) -> None:
    """Record an outcome, trying again while the database is briefly unavailable (the
    outcome is known only now: lost, the message would wait as unconfirmed)."""
    for attempt in range(RECORD_TRIES):
        try:
            with open_session() as session, session.begin():
                message = _mine(session, message_id, owner)
                if message is not None:
                    recorder(session, message, report, why)
            return
        except sa.exc.OperationalError:
            if attempt == RECORD_TRIES - 1:
                raise


def _mine(session: Session, message_id: int, owner: str) -> Message | None:
    """The message, locked, if `owner`'s claim is still the latest one."""
    message = session.get(Message, message_id, with_for_update=True)
    if message is None or message.claimed_by != owner:
        return None  # erased meanwhile, or claimed again after a person's retry
    return message


def _accepted(session: Session, message: Message, report: Delivery, _: str) -> None:
    if message.status != "sent":
        record_sent(session, message, clock.now())
        report.sent += 1


def _refused(session: Session, message: Message, report: Delivery, why: str) -> None:
    if message.status not in ("sending", "unconfirmed"):
        return
    message.status, message.last_error = "failed", why[:2000]
    message.next_attempt_at = (
        clock.now() + min(FIRST_WAIT * 2 ** (message.attempts - 1), LONGEST_WAIT)
        if message.attempts < MAX_ATTEMPTS
        else None
    )
    report.failed += 1


def _unconfirmed(session: Session, message: Message, report: Delivery, why: str) -> None:
    if message.status == "sending":
        message.status, message.next_attempt_at, message.last_error = "unconfirmed", None, why
        report.unconfirmed += 1


def settle_abandoned(session: Session, now: datetime) -> int:
    """Make `unconfirmed` the claims whose sender is gone without recording an outcome:
    its process on this host has ended, or the claim is older than CLAIM_LIMIT."""
    settled = 0
    claims = session.scalars(
        sa.select(Message)
        .where(Message.status == "sending")
        .order_by(Message.id)  # one lock order for every sender
        .with_for_update()
    )
    for message in claims:
        stale = message.claimed_at is None or message.claimed_at < now - CLAIM_LIMIT
        if not (stale or _owner_gone(message.claimed_by or "")):
            continue
        message.status, message.next_attempt_at = "unconfirmed", None
        message.last_error = (
            "the sender stopped after claiming it, before recording the server's answer: "
            "the server may have accepted it"
        )
        settled += 1
    return settled


def _owner_gone(owner: str) -> bool:
    """Whether the process that claimed is known to have ended (only on this host; a
    process id is not checked against the one asking)."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname()[:80] or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # it runs, as another user
        return False
    return False


def _email(
    session: Session, message: Message, config: SmtpConfig, owner: TeamMember | None
) -> EmailMessage:
    email = EmailMessage()
    display = owner.name if owner is not None and owner.name else desk_name(session)
    email["From"] = formataddr((display, config.sender))
    if owner is not None:
        email["Reply-To"] = owner.email
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Message-ID"] = message.message_id_header or make_msgid()
    email["X-Keepwell-Message"] = str(message.id)
    if message.category == "marketing":
        url = unsubscribe_url(session, message.customer_id)
        email["List-Unsubscribe"] = f"<{url}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email.set_content(message.body)
    return email
