"""The output models: what the API answers about
goals, account reviews, their questions and settings.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from keepwell.web.schemas import Output


class GoalPublic(Output):
    id: int
    customer_id: int
    member_id: int | None
    what: str
    agreed_on: date
    target_on: date | None
    status: str
    closed_on: date | None
    notes: str
    created_at: datetime
    updated_at: datetime
    version: int


class ReviewPublic(Output):
    id: int
    customer_id: int
    member_id: int | None
    kind: str
    due_on: date
    status: str
    completed_at: datetime | None
    completed_by_id: int | None
    note: str
    answered: int
    yes: int
    partly: int
    goals_met: int
    goals_total: int
    version: int


class ChecklistItemPublic(BaseModel):
    question: str
    text: str
    hint: str
    suggested: str | None
    answer: str | None
    note: str
    answered_at: datetime | None
    answered_by_id: int | None


class ChecklistGoal(BaseModel):
    id: int
    what: str
    target_on: date | None
    status: str
    closed_on: date | None
    notes: str


class ChecklistPublic(BaseModel):
    review: ReviewPublic
    customer: str
    items: list[ChecklistItemPublic]
    goals: list[ChecklistGoal]


class CompletedPublic(BaseModel):
    review: ReviewPublic
    next_review: ReviewPublic | None


class QuestionPublic(Output):
    id: int
    text: str
    active: bool
    position: int


class ReviewSettingsPublic(BaseModel):
    interval_days: int
    key_segments: list[str]
    min_revenue_minor: int | None


class SchedulePublic(BaseModel):
    scheduled: int
    reassigned: int
    cancelled: int
