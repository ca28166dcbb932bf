"""The output models: what the API answers about
the outbox, drafts, notes, resources and calendar feeds.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from keepwell.web.schemas import Output


class MessagePublic(Output):
    id: int
    customer_id: int
    member_id: int | None
    playbook_id: int | None
    category: str
    template: str
    to_address: str
    subject: str
    body: str
    status: str
    queued_at: datetime
    next_attempt_at: datetime | None
    attempts: int
    last_error: str
    sent_at: datetime | None
    message_id_header: str | None  # the Message-ID, to look up in the mail server's log
    claimed_at: datetime | None


class DraftPublic(BaseModel):
    customer_id: int
    customer: str
    subject: str
    body: str
    items: int


class NoteResult(BaseModel):
    queued: bool
    refused: str
    message_id: int | None


class ResourcePublic(Output):
    id: int
    kind: str
    title: str
    url: str
    topics: list[str]
    product: str | None
    published_on: date


class PassedOn(BaseModel):
    matched: int
    emailed: int
    tasks: int


class FeedUrl(BaseModel):
    url: str
