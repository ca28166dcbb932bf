"""Completing a task as a person does: the one place where a task hands on to another
concept. A case's confirmation task, done while the case is resolved, confirms the case
(which finishes the task); every other task is simply finished.

Kept apart from keepwell/tasks/service.py so that cases may use the tasks service
(cases make and finish their confirmation tasks) without tasks importing cases back.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from keepwell.accounts.models import TeamMember
from keepwell.cases import service as cases
from keepwell.cases.models import Case
from keepwell.tasks.models import Task
from keepwell.tasks.service import finish_task


def complete_task(
    session: Session,
    task: Task,
    *,
    outcome: str = "",
    channel: str | None = "call",
    member: TeamMember | None = None,
) -> Task:
    """Mark the task done, logging the interaction unless `channel` is None; a resolved
    case's confirmation task confirms the case with the customer."""
    if task.status == "open" and task.kind == cases.CONFIRM_KIND and task.case_id is not None:
        case = session.get(Case, task.case_id)
        if case is not None and case.status == "resolved":
            cases.confirm(session, case, note=outcome, member=member, channel=channel)
            return task  # confirming finished this task
    return finish_task(session, task, outcome=outcome, channel=channel, member=member)
