"""The output models: what the API answers about promises and their progress updates."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from keepwell.web.schemas import Output


class PromisePublic(Output):
    id: int
    customer_id: int
    member_id: int | None
    what: str
    made_at: datetime
    due_at: datetime
    original_due_at: datetime
    status: str
    completed_at: datetime | None
    outcome: str
    slips: int
    version: int


class PromiseUpdatePublic(Output):
    id: int
    at: datetime
    note: str
    old_due_at: datetime
    new_due_at: datetime | None
    touch_id: int | None


class PromiseDetail(BaseModel):
    promise: PromisePublic
    updates: list[PromiseUpdatePublic]
