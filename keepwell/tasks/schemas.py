"""The output models: what the API answers about tasks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from pydantic import BaseModel
from sqlalchemy.orm import Session

from keepwell.tasks import service
from keepwell.tasks.models import Task


class TaskPublic(BaseModel):
    id: int
    customer_id: int
    customer: str
    member_id: int | None
    member: str | None
    kind: str
    due_on: date
    reason: str
    context: str
    status: str
    snoozed_until: date | None
    completed_at: str | None
    outcome: str
    source: str
    dedupe_key: str
    case_id: int | None
    version: int


def task_views(session: Session, tasks: Sequence[Task]) -> list[TaskPublic]:
    """Tasks as the list shows them (`describe`: with customer name and member e-mail)."""
    versions = {t.id: t.version for t in tasks}
    return [
        TaskPublic.model_validate({**row, "version": versions[row["id"]]})
        for row in service.describe(session, tasks)
    ]
