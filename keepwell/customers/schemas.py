"""The output models: what the API answers about customers, their record and special dates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from keepwell.web.schemas import Output


class CustomerPublic(Output):
    id: int
    external_id: str | None
    name: str
    email: str | None
    phone: str | None
    company: str | None
    segment: str | None
    tags: list[str]
    owner_id: int | None
    first_seen: datetime | None
    personal_notes: str | None
    preferred_channel: str | None
    language: str | None
    cultural_notes: str | None
    birthday: date | None
    marketing_consent: bool
    opted_out_at: datetime | None
    cadence_days: int | None
    # derived from orders and interactions
    last_contact_at: datetime | None
    last_outbound_at: datetime | None
    next_check_in_at: datetime | None
    order_count: int
    revenue_minor: int
    last_order_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int


class CustomerPage(BaseModel):
    items: list[CustomerPublic]
    next_after: int | None  # pass as `after` for the next page; None: this was the last


class TimelineEntryPublic(BaseModel):
    at: datetime
    kind: str
    ref: str
    text: str


class CustomerRecordPublic(BaseModel):
    profile: dict[str, Any]
    owner: str | None
    cadence_days: int
    special_dates: list[dict[str, Any]]
    timeline: list[TimelineEntryPublic]


class SpecialDatePublic(Output):
    id: int
    customer_id: int
    kind: str
    label: str
    on_date: date
    yearly: bool
    gesture: str


class UpcomingPublic(BaseModel):
    customer_id: int
    customer_name: str
    owner_id: int | None
    kind: str
    on: date
    years: int | None
    label: str
    gesture: str
    cultural_notes: str | None
    special_date_id: int | None
