"""Tables of the accounts concept: members, their sign-in, API tokens, browser sessions,
the sign-in throttle and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from keepwell import clock
from keepwell.tables import Base, UTCDateTime, one_of

Role = Literal["admin", "member", "viewer"]
ROLES: tuple[Role, ...] = get_args(Role)
WRITERS: tuple[Role, ...] = ("admin", "member")  # the roles that change things; a viewer reads
AuditAction = Literal["insert", "update", "delete"]
AUDIT_ACTIONS: tuple[AuditAction, ...] = get_args(AuditAction)


class TeamMember(Base):
    """A person on the team: owner of customers, doer of tasks."""

    __tablename__ = "team_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    role: Mapped[str] = mapped_column(sa.String(20), default="member")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    # Argon2id (PHC string); None: this member cannot sign in with a password yet.
    password_hash: Mapped[str | None] = mapped_column(sa.String(200))
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (sa.CheckConstraint(one_of("role", ROLES), name="role"),)


class ApiToken(Base):
    """A bearer token for an API client, acting as the member who made it.

    Only the SHA-256 of the secret is stored; the secret is shown once, when made.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("team_members.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    prefix: Mapped[str] = mapped_column(sa.String(16))  # the secret's start, to recognise it
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebSession(Base):
    """A signed-in browser: the cookie holds a secret whose SHA-256 is stored here, with
    the SHA-256 of the session's CSRF token (sent back with every form)."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("team_members.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    csrf_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SignInThrottle(Base):
    """Failed sign-ins of one e-mail address from one IP address, and when the next
    attempt is allowed (the wait doubles with each failure)."""

    __tablename__ = "sign_in_throttles"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)  # sha256(email, ip)
    failures: Mapped[int] = mapped_column(default=0)
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """One change of one record: who, when, what (table and id), before and after.

    `customer_id` is the customer the record belongs to (for the per-customer list); it
    is a plain number, not a foreign key, so the trail outlives what it describes.
    """

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    member_id: Mapped[int | None] = mapped_column()  # who; None: the command line or a job
    via: Mapped[str] = mapped_column(sa.String(40), default="")  # "api", "cli", "token:3", …
    action: Mapped[str] = mapped_column(sa.String(10))  # insert, update, delete
    table_name: Mapped[str] = mapped_column(sa.String(64))
    record_id: Mapped[str] = mapped_column(sa.String(200))
    customer_id: Mapped[int | None] = mapped_column()
    before: Mapped[dict[str, Any] | None] = mapped_column("before_data", sa.JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column("after_data", sa.JSON)

    __table_args__ = (
        sa.Index("ix_audit_entries_customer_id_id", "customer_id", "id"),
        sa.Index("ix_audit_entries_member_id_id", "member_id", "id"),
        sa.CheckConstraint(one_of("action", AUDIT_ACTIONS), name="action"),
    )
