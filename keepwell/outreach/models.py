"""Tables of the outreach concept: the outbox, resources to pass on, calendar feeds."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal, get_args

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from keepwell import clock
from keepwell.orders.models import BigId
from keepwell.tables import Base, UTCDateTime, one_of

Status = Literal["queued", "sending", "sent", "unconfirmed", "failed", "cancelled"]
STATUSES: tuple[Status, ...] = get_args(Status)
Category = Literal["service", "marketing"]
CATEGORIES: tuple[Category, ...] = get_args(Category)
ResourceKind = Literal["article", "guide", "product_update"]
RESOURCE_KINDS: tuple[ResourceKind, ...] = get_args(ResourceKind)


class Message(Base):
    """One e-mail to a customer. Every automatic message is queued here, then sent.

    queued → sending → sent. `sending`: one sender claimed it (`claimed_by`, `claimed_at`,
    committed before the SMTP conversation starts) and no other sender touches it. The
    server refused it or could not be reached: `failed` with `next_attempt_at` (backoff)
    until it is sent or its attempts run out (then `next_attempt_at` is None and it waits
    for `keepwell outreach retry`). `unconfirmed`: the server may have accepted it but the
    sender never recorded the answer (it crashed, the connection broke after the text
    was handed over): never sent again automatically; an admin checks the mail server's
    log for `message_id_header` and confirms or retries it. `cancelled`: the customer
    opted out before it left.
    """

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(  # on whose behalf (the owner)
        sa.ForeignKey("team_members.id", ondelete="SET NULL")
    )
    playbook_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("playbooks.id", ondelete="SET NULL")
    )
    category: Mapped[str] = mapped_column(sa.String(10))
    template: Mapped[str] = mapped_column(sa.String(100), default="")
    to_address: Mapped[str] = mapped_column(sa.String(320))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    dedupe_key: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(sa.String(12), default="queued")
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # the Message-ID header: fixed at the first claim, kept for every attempt
    message_id_header: Mapped[str | None] = mapped_column(sa.String(255))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the latest claim
    claimed_by: Mapped[str | None] = mapped_column(sa.String(120))  # "host:pid:nonce"
    touch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("touches.id", ondelete="SET NULL"))

    __table_args__ = (
        sa.UniqueConstraint("customer_id", "dedupe_key"),
        sa.Index("ix_outbox_messages_status_next_attempt_at", "status", "next_attempt_at"),
        sa.Index("ix_outbox_messages_customer_id_queued_at", "customer_id", "queued_at"),
        sa.CheckConstraint(one_of("status", STATUSES), name="status"),
        sa.CheckConstraint(one_of("category", CATEGORIES), name="category"),
    )


class Resource(Base):
    """Something worth passing on (an article, a guide, a product update), with topics."""

    __tablename__ = "outreach_resources"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20), default="article")
    title: Mapped[str] = mapped_column(sa.String(300))
    url: Mapped[str] = mapped_column(sa.String(2000))
    topics: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    product: Mapped[str | None] = mapped_column(sa.String(300))  # product updates: which
    published_on: Mapped[date] = mapped_column(sa.Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    __table_args__ = (
        sa.CheckConstraint(one_of("kind", RESOURCE_KINDS), name="kind"),
        sa.Index("ix_outreach_resources_published_on", "published_on"),
    )


class CalendarFeed(Base):
    """A member's private calendar feed: the URL's secret, stored as its SHA-256."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("team_members.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
