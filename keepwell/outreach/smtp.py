"""Outgoing mail as an admin sees it (`/admin/smtp`): the SMTP settings in effect and
where each comes from, the desk's overrides, a test message, and the outbox at a glance.

The settings come from the environment (KEEPWELL_SMTP_HOST, _PORT, _TLS, _FROM, _USER,
_PASSWORD); an admin may override all but the password with the desk setting
`outreach.smtp` (a map of host, port, tls, from, user), which `mail.smtp_config` reads
first. The password stays in the environment: this module only says whether it is set.
"""

from __future__ import annotations

import ipaddress
import os
import re
import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.errors import InvalidInput, KeepwellError
from keepwell.ingest.parsing import CellError, parse_email
from keepwell.outreach import mail
from keepwell.outreach import transport as handoff
from keepwell.outreach.models import Message
from keepwell.settings import service as settings

OVERRIDE_KEY = mail.SMTP_SETTING
# (key of the override map, environment variable, label), in the order shown
FIELDS = (
    ("host", "KEEPWELL_SMTP_HOST", "Host"),
    ("port", "KEEPWELL_SMTP_PORT", "Port"),
    ("tls", "KEEPWELL_SMTP_TLS", "TLS"),
    ("from", "KEEPWELL_SMTP_FROM", "Sender address"),
    ("user", "KEEPWELL_SMTP_USER", "User name"),
)
PASSWORD_ENV = "KEEPWELL_SMTP_PASSWORD"  # noqa: S105 - the variable's name, not a password
TEST_TIMEOUT_S = 10.0  # a test waits at most this long for the server (the outbox: 20 s)
MAX_USER = 320
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOSTNAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*\.?$")


# --- the settings in effect ----------------------------------------------------------


@dataclass(frozen=True)
class Effective:
    key: str  # host, port, tls, from, user
    label: str
    value: str  # what is used ("" : nothing)
    source: str  # "desk setting", "environment (KEEPWELL_SMTP_HOST)", "default", "not set"
    override: str  # the desk's override ("": none, the environment or default applies)


@dataclass(frozen=True)
class SmtpSettings:
    fields: list[Effective]
    configured: bool  # a host and a sender: the outbox can send
    password_set: bool  # KEEPWELL_SMTP_PASSWORD is set (never shown)


def smtp_settings(session: Session) -> SmtpSettings:
    """The settings `mail.smtp_config` uses, each with where it comes from."""
    config = mail.smtp_config(session)
    stored = mail.smtp_overrides(session)
    used = {
        "host": config.host, "port": str(config.port), "tls": config.tls,
        "from": config.sender, "user": config.user,
    }  # fmt: skip
    fields: list[Effective] = []
    for key, env, label in FIELDS:
        override = stored.get(key)
        raw = override or os.environ.get(env)
        if override:
            source = "desk setting"
        elif os.environ.get(env):
            source = f"environment ({env})"
        else:
            source = "default" if key in ("port", "tls") else "not set"
        if raw and str(raw).strip().lower() != used[key].lower():
            source += f" — {str(raw)[:40]!r} is not valid, so the default is used"
        shown = "" if override in (None, "") else str(override)
        fields.append(Effective(key, label, used[key], source, shown))
    return SmtpSettings(fields, config.configured, bool(os.environ.get(PASSWORD_ENV)))


def set_overrides(
    session: Session, *, host: str, port: str, tls: str, sender: str, user: str
) -> dict[str, Any]:
    """Store the desk's overrides (an empty value: the environment's applies); all are
    checked first, so a refusal stores nothing. No override at all removes the setting.
    Audited (the settings table is)."""
    stored: dict[str, Any] = {}
    host = host.strip()
    if host:
        if not _is_host(host):
            raise InvalidInput("host", f"{host[:60]!r} is not a host name or IP address")
        stored["host"] = _canonical_host(host)
    text = port.strip()
    if text:
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 65535:
            raise InvalidInput("port", f"give a port from 1 to 65535, not {text[:20]!r}")
        stored["port"] = int(text)
    mode = tls.strip().lower()
    if mode:
        if mode not in mail.TLS_MODES:
            raise InvalidInput("tls", f"use one of {', '.join(mail.TLS_MODES)}, not {mode[:20]!r}")
        stored["tls"] = mode
    if sender.strip():
        try:
            stored["from"] = parse_email(sender)
        except CellError:
            raise InvalidInput(
                "from", f"{sender.strip()[:60]!r} is not an e-mail address"
            ) from None
    name = user.strip()
    if name:
        if len(name) > MAX_USER or any(ord(c) < 32 or ord(c) == 127 for c in name):
            raise InvalidInput("user", f"give a user name of at most {MAX_USER} characters")
        stored["user"] = name
    if stored:
        if stored != mail.smtp_overrides(session):
            settings.put(session, OVERRIDE_KEY, stored)
    else:
        settings.remove(session, OVERRIDE_KEY)
    return stored


def _is_host(text: str) -> bool:
    if len(text) > 253:
        return False
    try:
        ipaddress.ip_address(text.strip("[]"))
        return True
    except ValueError:
        return bool(HOSTNAME.match(text))


def _canonical_host(text: str) -> str:
    """A checked host as smtplib takes it: an IP address without the brackets of a URL
    ("[::1]" -> "::1"), a name in lower case without its final dot."""
    try:
        return str(ipaddress.ip_address(text.strip("[]")))
    except ValueError:
        return text.rstrip(".").lower()


# --- a test message ---------------------------------------------------------------------


class SmtpFailed(KeepwellError):
    """The SMTP server refused the test message, or could not be reached."""


@dataclass(frozen=True)
class TestSent:
    to: str
    host: str
    port: int
    tls: str


def send_test(session: Session, to: str, *, transport: handoff.Transport | None = None) -> TestSent:
    """Send a short message to `to` (the admin asking) with the settings in effect, over
    the outbox's own transport (`transport.smtp_send`), now: not queued, so it ignores quiet
    hours and the customers' budget. SmtpFailed says what the server answered."""
    config = mail.smtp_config(session)
    if not config.configured:
        raise InvalidInput(
            "smtp", "not configured: give a host and a sender address (here, or "
            "KEEPWELL_SMTP_HOST and KEEPWELL_SMTP_FROM)",
        )  # fmt: skip
    desk = mail.desk_name(session)
    email = EmailMessage()
    email["From"] = formataddr((desk, config.sender))
    email["To"] = to
    email["Subject"] = f"Keepwell test message ({desk})"
    email["Message-ID"] = make_msgid(domain=config.sender.rpartition("@")[2] or None)
    email["X-Keepwell-Test"] = "1"
    email.set_content(
        f"This is a test message from Keepwell, sent to {to} at "
        f"{clock.now():%Y-%m-%d %H:%M} UTC from the SMTP settings page.\n\n"
        f"It went through {config.host}:{config.port} (TLS: {config.tls}) from "
        f"{config.sender}. If you can read it, the desk's e-mail reaches people.\n"
    )
    try:
        if transport is None:
            handoff.smtp_send(config, email, timeout=TEST_TIMEOUT_S)
        else:
            transport(config, email)
    except (OSError, smtplib.SMTPException) as exc:
        why = str(exc) if isinstance(exc, handoff.HandoffError) else f"{type(exc).__name__}: {exc}"
        where = f"{config.host}:{config.port} (TLS: {config.tls})"
        raise SmtpFailed(f"{where} did not take the message: {why}"[:1000]) from None
    return TestSent(to, config.host, config.port, config.tls)


# --- the outbox at a glance ---------------------------------------------------------------

COUNT_CAP = 100_000  # counts stop here ("100,000 or more")
RECENT_WINDOW = 20_000  # "sent in the last day" is counted among this many newest messages
FAILED_SHOWN = 50


@dataclass(frozen=True)
class OutboxGlance:
    queued: int
    next_due_at: datetime | None  # the earliest queued message's next attempt
    failed: int
    failed_rows: list[Message]  # FAILED_SHOWN of them: those that gave up first
    sent_last_day: int
    window_full: bool  # the outbox holds more than RECENT_WINDOW messages
    unconfirmed: int = 0
    # FAILED_SHOWN of them, oldest claim first: each with its Message-ID to look up
    unconfirmed_rows: list[Message] = field(default_factory=list)
    cap: int = COUNT_CAP


def outbox_glance(session: Session) -> OutboxGlance:
    """What waits, what failed (and why), what may have left unconfirmed, what left in
    the last 24 hours.

    Every read is along an index and bounded: counts stop at COUNT_CAP, and the messages
    sent in the last day are counted among the RECENT_WINDOW newest (by id), so the page
    costs the same on a desk with years of outbox history."""
    now = clock.now()
    queued = _capped(session, Message.status == "queued")
    next_due = session.scalar(
        sa.select(Message.next_attempt_at)
        .where(Message.status == "queued", Message.next_attempt_at.is_not(None))
        .order_by(Message.next_attempt_at)
        .limit(1)
    )
    failed = _capped(session, Message.status == "failed")
    rows = list(
        session.scalars(
            sa.select(Message)
            .where(Message.status == "failed")  # given up first, then the latest to retry
            .order_by(Message.next_attempt_at.desc().nulls_first(), Message.id.desc())
            .limit(FAILED_SHOWN)
        )
    )
    unconfirmed = _capped(session, Message.status == "unconfirmed")
    unsure = list(
        session.scalars(
            sa.select(Message)
            .where(Message.status == "unconfirmed")
            .order_by(Message.claimed_at, Message.id)
            .limit(FAILED_SHOWN)
        )
    )
    newest = (
        sa.select(Message.status, Message.sent_at)
        .order_by(Message.id.desc())
        .limit(RECENT_WINDOW)
        .subquery()
    )
    sent_recently = sa.and_(newest.c.status == "sent", newest.c.sent_at >= now - timedelta(days=1))
    counted = sa.select(sa.func.count(), sa.func.sum(sa.case((sent_recently, 1), else_=0)))
    seen, sent = session.execute(counted.select_from(newest)).one()
    return OutboxGlance(
        queued=queued,
        next_due_at=next_due,
        failed=failed,
        failed_rows=rows,
        sent_last_day=int(sent or 0),
        window_full=int(seen) >= RECENT_WINDOW,
        unconfirmed=unconfirmed,
        unconfirmed_rows=unsure,
    )


def _capped(session: Session, where: sa.ColumnElement[bool]) -> int:
    """How many messages match, counted up to COUNT_CAP."""
    found = sa.select(Message.status).where(where).limit(COUNT_CAP).subquery()
    return int(session.scalar(sa.select(sa.func.count()).select_from(found)) or 0)
