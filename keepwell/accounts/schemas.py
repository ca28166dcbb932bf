"""The output models: what the API answers about
team members, sign-in sessions, API tokens, the audit trail and health.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from keepwell.web.schemas import Output


class MemberPublic(Output):
    id: int
    email: str
    name: str
    role: str
    active: bool
    created_at: datetime
    last_sign_in_at: datetime | None


class MemberCreated(BaseModel):
    member: MemberPublic
    password: str | None = None  # the generated password, shown this once


class PasswordChanged(BaseModel):
    member: MemberPublic
    password: str | None = None  # the generated password, shown this once
    tokens_revoked: bool


class SessionPublic(BaseModel):
    member: MemberPublic
    csrf_token: str  # send it back in X-CSRF-Token (or the csrf_token form field)
    expires_at: datetime


class TokenPublic(Output):
    id: int
    member_id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(BaseModel):
    token: str  # the secret, shown this once: send it as Authorization: Bearer …
    details: TokenPublic


class AuditEntryPublic(Output):
    id: int
    at: datetime
    member_id: int | None
    via: str
    action: str
    table_name: str
    record_id: str
    customer_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class Health(BaseModel):
    status: str
    schema_revision: str
