"""The output models: what the API answers about cases."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy.orm import Session

from keepwell.cases import service
from keepwell.cases.models import Case
from keepwell.tasks.schemas import TaskPublic, task_views
from keepwell.touches.schemas import InteractionPublic
from keepwell.web.schemas import Output


class CasePublic(Output):
    id: int
    customer_id: int
    member_id: int | None
    title: str
    description: str
    severity: str
    status: str
    opened_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    confirmed_at: datetime | None
    root_cause_category: str | None
    root_cause: str
    prevention: str
    resolution: str
    reopened_count: int
    last_reopened_at: datetime | None
    version: int


class CaseDetail(BaseModel):
    case: CasePublic
    interactions: list[InteractionPublic]  # the conversation, oldest first
    tasks: list[TaskPublic]  # its confirmation tasks, one per resolution


def case_detail(session: Session, case: Case) -> CaseDetail:
    """A case with its conversation and its confirmation tasks."""
    return CaseDetail(
        case=CasePublic.model_validate(case),
        interactions=[
            InteractionPublic.model_validate(t) for t in service.case_touches(session, case)
        ],
        tasks=task_views(session, service.case_tasks(session, case)),
    )
