"""The output models: what the API answers about a member's day."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel


class AgendaItemPublic(BaseModel):
    group: str
    ref: str
    customer_id: int
    customer: str
    owner_id: int | None
    title: str
    reason: str
    context: str
    due: str | None


class AgendaPublic(BaseModel):
    day: date
    member_id: int | None
    member: str
    counts: dict[str, int]
    more_quiet: int
    more_dates: int
    more_dates_capped: bool
    more_reviews: int = 0
    items: list[AgendaItemPublic]
