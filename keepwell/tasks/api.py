"""/api/tasks: add, list (TaskFilter), snooze, reassign, complete, cancel."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, Response
from pydantic import Field
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.tasks import service
from keepwell.tasks.completion import complete_task
from keepwell.tasks.models import Task
from keepwell.tasks.schemas import (
    TaskPublic,
    task_views,
)
from keepwell.touches.models import Channel
from keepwell.web.deps import DbSession, Me, customer_by_id, member_by_id, router
from keepwell.web.records import ListQuery, api_list, locked, named, versioned
from keepwell.web.schemas import Day, Id, Input, Long, text


class TaskCreate(Input):
    customer_id: Id
    reason: Annotated[str, text(service.MAX_REASON, min_length=1)]
    kind: Annotated[str, text(service.MAX_KIND, min_length=1)] = "follow_up"
    due_on: Day | None = None  # default: today
    member_id: Id | None = None  # default: the customer's owner
    context: Long | None = None  # default: from the customer's record


class SnoozeInput(Input):
    until: Day


class ReassignInput(Input):
    member_id: Id | None  # null: nobody


class CompleteInput(Input):
    outcome: Long = ""
    channel: Channel | None = "call"  # how the customer was reached; null logs nothing


class CancelInput(Input):
    reason: Annotated[str, text(service.MAX_REASON)] = ""


class TaskQuery(ListQuery[service.TaskFilter]):
    """Tasks, soonest due first (open ones unless `status` says otherwise)."""

    status: Literal["open", "done", "cancelled", "all"] = "open"
    member_id: Annotated[Id | None, named("owner", "Member id of who does them.")] = None
    customer_id: Annotated[Id | None, named("customer")] = None
    kind: Annotated[str | None, Field(max_length=service.MAX_KIND)] = None
    due_on_or_before: Annotated[Day | None, named("due_before", "Due on or before this day.")] = (
        None
    )
    include_snoozed: Annotated[bool, named("snoozed", "Include tasks snoozed past today.")] = False
    limit: Annotated[int, Field(ge=1, le=service.MAX_LIMIT)] = 50

    def filter(self, session: Session, **fixed: Any) -> service.TaskFilter:
        """`all`: every status (the filter's None)."""
        status = None if self.status == "all" else self.status
        return super().filter(session, status=status, **fixed)


tasks = router("tasks")
LockedTask = Annotated[Task, Depends(locked(Task, "task"))]
api_list(tasks, "/tasks", TaskQuery, service.list_tasks, TaskPublic, describe=task_views)


def _public(session: DbSession, task: Task) -> TaskPublic:
    return task_views(session, [task])[0]


@tasks.post(
    "/tasks",
    response_model=TaskPublic,
    status_code=201,
    responses={200: {"model": TaskPublic, "description": "The task existed already"}},
)
def create_task(data: TaskCreate, session: DbSession, response: Response) -> TaskPublic:
    """Add a task; the same reason for the same customer stays one task (answered 200
    with the task that was there already)."""
    customer = customer_by_id(session, data.customer_id)
    existing = service.find_task(
        session, customer.id, service.default_dedupe_key(data.kind, data.reason)
    )
    task = service.create_task(
        session,
        customer,
        kind=data.kind,
        due_on=data.due_on or clock.today(),
        reason=data.reason,
        context=data.context,
        member=member_by_id(session, data.member_id, "member_id"),
    )
    if existing is not None:
        response.status_code = 200
    return versioned(response, task, _public(session, task))


@tasks.get("/tasks/{task_id}", response_model=TaskPublic)
def get_task(task_id: Id, session: DbSession, response: Response) -> TaskPublic:
    """A task; the ETag is its version."""
    task = service.get_task(session, task_id)
    return versioned(response, task, _public(session, task))


@tasks.post("/tasks/{task_id}/snooze", response_model=TaskPublic)
def snooze(task: LockedTask, data: SnoozeInput, session: DbSession) -> TaskPublic:
    """Hide the open task until a later day (its due date stays)."""
    service.snooze_task(session, task, until=data.until)
    return _public(session, task)


@tasks.post("/tasks/{task_id}/reassign", response_model=TaskPublic)
def reassign(task: LockedTask, data: ReassignInput, session: DbSession) -> TaskPublic:
    """Give the open task to another member."""
    service.reassign_task(session, task, member_by_id(session, data.member_id, "member_id"))
    return _public(session, task)


@tasks.post("/tasks/{task_id}/complete", response_model=TaskPublic)
def complete(
    task: LockedTask, session: DbSession, me: Me, data: CompleteInput = CompleteInput()
) -> TaskPublic:
    """Mark the task done; the interaction is logged and the next check-in moves."""
    complete_task(session, task, outcome=data.outcome, channel=data.channel, member=me)
    return _public(session, task)


@tasks.post("/tasks/{task_id}/cancel", response_model=TaskPublic)
def cancel(task: LockedTask, session: DbSession, data: CancelInput = CancelInput()) -> TaskPublic:
    """Close the task without doing it."""
    service.cancel_task(session, task, reason=data.reason)
    return _public(session, task)
