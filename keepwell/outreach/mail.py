"""E-mail: SMTP settings, templates, the outbox (queue, list, retry, confirm) and
unsubscribing.

Every automatic message is first queued in `outbox_messages` (with the budget, consent
and quiet hours checked, keepwell.outreach.budget), then keepwell.outreach.delivery
sends what is due over SMTP, each message at most once. A sent message is recorded as
an outbound e-mail interaction on the customer's timeline (`record_sent`). What could
not be sent is kept and listed; what may have left without the desk knowing is
`unconfirmed` until a person confirms (`confirm`) or retries it (`retry`). Nothing is
dropped.

SMTP settings come from the environment (KEEPWELL_SMTP_HOST, _PORT, _USER, _PASSWORD,
_TLS = starttls|ssl|off, _FROM); an admin may override all but the password with the
desk setting `outreach.smtp` (a map host/port/user/tls/from).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.accounts.models import TeamMember
from keepwell.customers.models import Customer
from keepwell.db import get_or_raise
from keepwell.errors import InvalidInput, check_choice, check_limit
from keepwell.outreach import budget as pressure
from keepwell.outreach.models import CATEGORIES, STATUSES, Message
from keepwell.settings import service as settings
from keepwell.tasks.service import dedupe_key_for
from keepwell.touches.service import log_touch

TEMPLATES = Path(__file__).parent / "templates"
TLS_MODES = ("starttls", "ssl", "off")
MAX_SUBJECT = 300
MAX_BODY = 20_000
MAX_LIMIT = 500
DEFAULT_BASE_URL = "http://127.0.0.1:8000"

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=False,  # noqa: S701 - plain-text e-mail, never HTML
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=False,
)


# --- settings ------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    tls: str
    sender: str

    @property
    def configured(self) -> bool:
        return bool(self.host and self.sender)


SMTP_SETTING = "outreach.smtp"


def smtp_overrides(session: Session) -> dict[str, Any]:
    """The desk setting `outreach.smtp` as stored: {} when never set, or when set by hand
    (/admin/settings) to something else than a map (then the environment applies)."""
    stored = settings.get(session, SMTP_SETTING, {})
    return stored if isinstance(stored, dict) else {}


def smtp_config(session: Session) -> SmtpConfig:
    """The SMTP settings: the environment, overridden by the desk setting `outreach.smtp`."""
    env = os.environ
    override = smtp_overrides(session)
    tls = str(override.get("tls") or env.get("KEEPWELL_SMTP_TLS") or "starttls").lower()
    if tls not in TLS_MODES:
        tls = "starttls"
    raw_port = (
        override.get("port") or env.get("KEEPWELL_SMTP_PORT") or (465 if tls == "ssl" else 587)
    )
    try:
        port = int(raw_port)
    except (TypeError, ValueError):
        port = 587
    return SmtpConfig(
        host=str(override.get("host") or env.get("KEEPWELL_SMTP_HOST") or ""),
        port=port,
        user=str(override.get("user") or env.get("KEEPWELL_SMTP_USER") or ""),
        password=env.get("KEEPWELL_SMTP_PASSWORD", ""),
        tls=tls,
        sender=str(override.get("from") or env.get("KEEPWELL_SMTP_FROM") or ""),
    )


def base_url(session: Session) -> str:
    url = settings.get(session, "desk.base_url", None) or os.environ.get("KEEPWELL_BASE_URL")
    return str(url or DEFAULT_BASE_URL).rstrip("/")


def desk_name(session: Session) -> str:
    return str(settings.get(session, "desk.name", None) or "the team")


# --- templates -------------------------------------------------------------------------


def template_names() -> list[str]:
    return sorted(p.stem for p in TEMPLATES.glob("*.txt"))


def render(template: str, values: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) of template `template` ("Subject: …" on its first line)."""
    if template not in template_names():
        raise InvalidInput("template", f"no e-mail template {template!r}")
    try:
        text = _env.get_template(f"{template}.txt").render(**values)
    except jinja2.TemplateError as exc:
        raise InvalidInput("template", f"{template}: {exc}") from None
    head, _, body = text.partition("\n")
    if not head.startswith("Subject:"):
        raise InvalidInput("template", f"{template}: the first line must be 'Subject: …'")
    return head.removeprefix("Subject:").strip(), body.strip() + "\n"


def template_values(
    session: Session, customer: Customer, owner: TeamMember | None, extra: dict[str, Any]
) -> dict[str, Any]:
    """What a template may use: the customer's and the owner's names, the desk, `extra`."""
    return _values(customer, owner, desk_name(session), extra)


def _values(
    customer: Customer, owner: TeamMember | None, desk: str, extra: dict[str, Any]
) -> dict[str, Any]:
    name = customer.name.strip()
    return {
        "customer": {"name": name, "first_name": name.split()[0] if name else "there"},
        "owner": {
            "name": (owner.name or owner.email) if owner is not None else desk,
            "email": owner.email if owner is not None else "",
        },
        "desk": desk,
        **extra,
    }


# --- unsubscribing ---------------------------------------------------------------------


def _sign(key: bytes, customer_id: int) -> str:
    digest = hmac.new(key, f"unsubscribe:{customer_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def _signature(session: Session, customer_id: int) -> str:
    return _sign(settings.secret(session, "outreach.unsubscribe"), customer_id)


def unsubscribe_token(session: Session, customer_id: int) -> str:
    return f"{customer_id}.{_signature(session, customer_id)}"


def unsubscribe_url(session: Session, customer_id: int) -> str:
    return f"{base_url(session)}/u/{unsubscribe_token(session, customer_id)}"


def customer_for_token(session: Session, token: str) -> Customer:
    """The customer an unsubscribe link names; a forged or unknown one is refused."""
    head, _, signature = token.partition(".")
    refused = InvalidInput("token", "this unsubscribe link is not valid")
    if not (head.isascii() and head.isdigit()) or len(head) > 9 or not signature:
        raise refused
    if not hmac.compare_digest(signature, _signature(session, int(head))):
        raise refused
    customer = session.get(Customer, int(head), with_for_update=True)
    if customer is None:
        raise refused
    return customer


def unsubscribe(session: Session, token: str) -> Customer:
    """Record the opt-out the link asks for: no automatic message reaches them again."""
    customer = customer_for_token(session, token)
    if customer.opted_out_at is None:
        customer.opted_out_at = clock.now()
    customer.marketing_consent = False
    session.flush()
    cancelled = (
        sa.update(Message)
        .where(Message.customer_id == customer.id, Message.status.in_(("queued", "failed")))
        .values(status="cancelled", last_error="the customer unsubscribed", next_attempt_at=None)
    )
    session.execute(cancelled)
    return customer


# --- queueing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Queued:
    """What queueing did: the new message, the one queued before under the same dedupe
    key (`existing`, by id: not loaded), or why none was queued (`refused`)."""

    message: Message | None
    refused: str = ""  # "opted out", "over budget", … (empty when queued)
    existing: bool = False  # the same message (dedupe key) was queued before
    existing_id: int | None = None

    @property
    def queued(self) -> bool:
        """Is there a message (new or queued before) for this?"""
        return self.message is not None or self.existing_id is not None

    @property
    def message_id(self) -> int | None:
        return self.message.id if self.message is not None else self.existing_id


def queue_message(
    session: Session,
    customer: Customer,
    *,
    category: str,
    dedupe_key: str,
    template: str = "",
    subject: str = "",
    body: str = "",
    extra: dict[str, Any] | None = None,
    member: TeamMember | None = None,
    playbook_id: int | None = None,
) -> Queued:
    """Queue one message to `customer`, within consent and the contact budget.

    Give a `template` (rendered with the customer's and owner's names and `extra`), or
    a `subject` and `body` written by a person. Marketing messages carry an unsubscribe
    link. The same (customer, dedupe_key) is never queued twice.
    """
    outbox = Outbox(session, [customer.id])
    queued = outbox.queue(
        customer,
        category=category,
        dedupe_key=dedupe_key,
        template=template,
        subject=subject,
        body=body,
        extra=extra,
        member=member,
        playbook_id=playbook_id,
    )
    outbox.flush()
    return queued


class Outbox:
    """Queues messages for many customers in one transaction (a playbook's day): the
    settings are read once, the customers locked and their budgets counted in one query
    each, the new messages written in one flush.

    The customers' rows are the lock (FOR UPDATE on PostgreSQL; SQLite has one writer):
    two queuers of one customer count one after the other.
    """

    def __init__(self, session: Session, customer_ids: Iterable[int] = ()) -> None:
        self.session = session
        self.now = clock.now()
        self.rule = pressure.budget(session)
        self.send_after = pressure.quiet_hours(session).next_open(self.now)
        self.desk = desk_name(session)
        self.base = base_url(session)
        self._secret: bytes | None = None
        self._used: dict[int, int] = {}
        self._existing: dict[tuple[int, str], Message | int] = {}  # new ones, or stored ids
        self._owners: dict[int, TeamMember | None] = {}
        self._pending: list[Message] = []
        self._ready: set[int] = set()
        self.prepare(customer_ids)

    def prepare(self, customer_ids: Iterable[int]) -> None:
        """Lock these customers and count what they were sent (done once per customer)."""
        ids = sorted(set(customer_ids) - self._ready)
        for part in range(0, len(ids), 2000):
            chunk = ids[part : part + 2000]
            self.session.execute(
                sa.select(Customer.id).where(Customer.id.in_(chunk)).with_for_update()
            )
            self._used.update(pressure.used(self.session, chunk, self.now, self.rule))
            for customer_id, key, message_id in self.session.execute(
                sa.select(Message.customer_id, Message.dedupe_key, Message.id).where(
                    Message.customer_id.in_(chunk)
                )
            ):
                self._existing[(customer_id, key)] = message_id
            self._ready.update(chunk)

    def _owner(self, customer: Customer) -> TeamMember | None:
        if customer.owner_id is None:
            return None
        if customer.owner_id not in self._owners:
            self._owners[customer.owner_id] = self.session.get(TeamMember, customer.owner_id)
        return self._owners[customer.owner_id]

    def unsubscribe_url(self, customer_id: int) -> str:
        if self._secret is None:
            self._secret = settings.secret(self.session, "outreach.unsubscribe")
        return f"{self.base}/u/{customer_id}.{_sign(self._secret, customer_id)}"

    def queue(
        self,
        customer: Customer,
        *,
        category: str,
        dedupe_key: str,
        template: str = "",
        subject: str = "",
        body: str = "",
        extra: dict[str, Any] | None = None,
        member: TeamMember | None = None,
        playbook_id: int | None = None,
    ) -> Queued:
        check_choice("category", category, CATEGORIES)
        key = dedupe_key_for(dedupe_key)
        if not key:
            raise InvalidInput("dedupe_key", "must not be empty")
        owner = member if member is not None else self._owner(customer)
        values = _values(customer, owner, self.desk, extra or {})
        unsubscribe = self.unsubscribe_url(customer.id) if category == "marketing" else ""
        if unsubscribe:
            values["unsubscribe_url"] = unsubscribe
        if template:
            subject, body = render(template, values)
        else:
            subject, body = " ".join(subject.split()), body.strip()
            if not subject:
                raise InvalidInput("subject", "give the message a subject")
            if not body:
                raise InvalidInput("body", "write the message")
        if len(subject) > MAX_SUBJECT:
            raise InvalidInput("subject", f"longer than {MAX_SUBJECT} characters")
        if len(body) > MAX_BODY:
            raise InvalidInput("body", f"longer than {MAX_BODY:,} characters")
        if unsubscribe and unsubscribe not in body:
            body = f"{body.rstrip()}\n\n--\nNo more e-mails like this: {unsubscribe}\n"

        self.prepare([customer.id])
        existing = self._existing.get((customer.id, key))
        if isinstance(existing, int):
            return Queued(None, existing=True, existing_id=existing)
        if existing is not None:
            return Queued(existing, existing=True)
        why_not = pressure.may_email(customer, category)
        if why_not is not None:
            return Queued(None, why_not)
        if self._used.get(customer.id, 0) >= self.rule.messages:
            return Queued(None, "over budget")
        message = Message(
            customer_id=customer.id,
            member_id=owner.id if owner is not None else None,
            playbook_id=playbook_id,
            category=category,
            template=template,
            to_address=customer.email or "",
            subject=subject,
            body=body,
            dedupe_key=key,
            status="queued",
            queued_at=self.now,
            next_attempt_at=self.send_after,
            attempts=0,
            last_error="",
        )
        self._pending.append(message)
        self._existing[(customer.id, key)] = message
        self._used[customer.id] = self._used.get(customer.id, 0) + 1
        return Queued(message)

    def flush(self) -> None:
        """Write the queued messages; one a concurrent queuer wrote first is left out."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        try:
            with self.session.begin_nested():
                self.session.add_all(pending)
                self.session.flush()
            return
        except IntegrityError:
            pass
        for message in pending:  # one by one: skip the ones that exist now
            try:
                with self.session.begin_nested():
                    self.session.add(message)
                    self.session.flush()
            except IntegrityError:
                continue


# --- what a person decides -----------------------------------------------------------
# Sending is keepwell.outreach.delivery (claim, hand over, record).


def record_sent(session: Session, message: Message, when: datetime) -> None:
    """Mark `message` sent at `when` and put the outbound e-mail on the customer's
    timeline (once: a message already sent is left as it is)."""
    if message.status == "sent":
        return
    customer = session.get(Customer, message.customer_id)
    if customer is not None:
        owner = session.get(TeamMember, message.member_id) if message.member_id else None
        touch = log_touch(
            session,
            customer,
            channel="email",
            summary=f"E-mail sent by the desk: {message.subject}",
            member=owner,
            direction="outbound",
            happened_at=when,
        )
        message.touch_id = touch.id
    message.status, message.sent_at, message.next_attempt_at = "sent", when, None
    message.last_error = ""
    session.flush()


def retry(session: Session, message_id: int) -> Message:
    """Send a failed message again at the next delivery; or an unconfirmed one, once a
    person has checked the mail server's log and found it never left."""
    message = get_message(session, message_id, lock=True)
    if message.status not in ("failed", "unconfirmed"):
        raise InvalidInput(
            "status", f"message #{message.id} is {message.status}, not failed or unconfirmed"
        )
    message.status, message.next_attempt_at = "queued", clock.now()
    session.flush()
    return message


def confirm(session: Session, message_id: int) -> Message:
    """Record an unconfirmed message as sent, once a person has found its Message-ID in
    the mail server's log: it goes on the customer's timeline, as sent when it was claimed."""
    message = get_message(session, message_id, lock=True)
    if message.status != "unconfirmed":
        raise InvalidInput("status", f"message #{message.id} is {message.status}, not unconfirmed")
    record_sent(session, message, message.claimed_at or clock.now())
    return message


def get_message(session: Session, message_id: int, *, lock: bool = False) -> Message:
    return get_or_raise(session, Message, message_id, "message", lock=lock)


# --- the list --------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageFilter:
    """One definition of the outbox list (CLI, API): newest first."""

    status: str | None = None
    customer_id: int | None = None
    limit: int = 50

    def __post_init__(self) -> None:
        check_choice("status", self.status, STATUSES)
        check_limit(self.limit, MAX_LIMIT)

    def query(self) -> sa.Select[Message]:
        q = sa.select(Message)
        if self.status is not None:
            q = q.where(Message.status == self.status)
        if self.customer_id is not None:
            q = q.where(Message.customer_id == self.customer_id)
        return q.order_by(Message.queued_at.desc(), Message.id.desc()).limit(self.limit)


def list_messages(session: Session, filters: MessageFilter) -> list[Message]:
    return list(session.scalars(filters.query()))


@dataclass(frozen=True)
class OutboxState:
    queued: int
    failed: int
    gave_up: int  # failed, attempts used up: waiting for a person
    sent: int
    oldest_queued_at: datetime | None
    unconfirmed: int = 0  # the server may have taken them: waiting for a person
    sending: int = 0  # claimed by a sender right now


def outbox_state(session: Session) -> OutboxState:
    counts = dict(
        session.execute(sa.select(Message.status, sa.func.count()).group_by(Message.status)).all()
    )
    gave_up = session.scalar(
        sa.select(sa.func.count())
        .select_from(Message)
        .where(Message.status == "failed", Message.next_attempt_at.is_(None))
    )
    oldest = session.scalar(
        sa.select(sa.func.min(Message.queued_at)).where(Message.status.in_(("queued", "failed")))
    )
    return OutboxState(
        queued=int(counts.get("queued", 0)),
        failed=int(counts.get("failed", 0)),
        gave_up=int(gave_up or 0),
        sent=int(counts.get("sent", 0)),
        oldest_queued_at=oldest,
        unconfirmed=int(counts.get("unconfirmed", 0)),
        sending=int(counts.get("sending", 0)),
    )
