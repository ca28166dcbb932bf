"""/api/tasks: add, list (TaskFilter), snooze, reassign, complete, cancel."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query, Request, Response

from keepwell import clock
from keepwell.tasks import service
from keepwell.tasks.completion import complete_task
from keepwell.tasks.models import Task
from keepwell.tasks.schemas import TaskPublic, task_views
from keepwell.touches.models import Channel
from keepwell.web.deps import (
    CurrentActor,
    DbSession,
    IfMatch,
    acting_member,
    check_version,
    customer_by_id,
    etag,
    for_update,
    member_by_id,
    router,
)
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


tasks = router("tasks")


def _load(request: Request, session: DbSession, task_id: int, if_match: str | None) -> Task:
    task = for_update(session, Task, task_id, "task")
    check_version(request, "task", task.version, if_match)
    return task


def _public(session: DbSession, task: Task, response: Response) -> TaskPublic:
    response.headers["ETag"] = etag(task.version)
    return task_views(session, [task])[0]


@tasks.get("/tasks", response_model=list[TaskPublic])
def list_tasks(
    session: DbSession,
    status: Literal["open", "done", "cancelled", "all"] = "open",
    owner: Annotated[Id | None, Query(description="Member id of who does them.")] = None,
    customer: Id | None = None,
    kind: Annotated[str | None, Query(max_length=service.MAX_KIND)] = None,
    due_before: Annotated[Day | None, Query(description="Due on or before this day.")] = None,
    snoozed: Annotated[bool, Query(description="Include tasks snoozed past today.")] = False,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT)] = 50,
) -> list[TaskPublic]:
    """Tasks, soonest due first (open ones unless `status` says otherwise)."""
    filters = service.TaskFilter(
        status=None if status == "all" else status,
        member_id=owner,
        customer_id=customer,
        kind=kind,
        due_on_or_before=due_before,
        include_snoozed=snoozed,
        limit=limit,
    )
    return task_views(session, service.list_tasks(session, filters))


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
    return _public(session, task, response)


@tasks.get("/tasks/{task_id}", response_model=TaskPublic)
def get_task(task_id: Id, session: DbSession, response: Response) -> TaskPublic:
    """A task; the ETag is its version."""
    return _public(session, service.get_task(session, task_id), response)


@tasks.post("/tasks/{task_id}/snooze", response_model=TaskPublic)
def snooze(
    task_id: Id,
    data: SnoozeInput,
    request: Request,
    session: DbSession,
    response: Response,
    if_match: IfMatch = None,
) -> TaskPublic:
    """Hide the open task until a later day (its due date stays)."""
    task = _load(request, session, task_id, if_match)
    service.snooze_task(session, task, until=data.until)
    return _public(session, task, response)


@tasks.post("/tasks/{task_id}/reassign", response_model=TaskPublic)
def reassign(
    task_id: Id,
    data: ReassignInput,
    request: Request,
    session: DbSession,
    response: Response,
    if_match: IfMatch = None,
) -> TaskPublic:
    """Give the open task to another member."""
    task = _load(request, session, task_id, if_match)
    service.reassign_task(session, task, member_by_id(session, data.member_id, "member_id"))
    return _public(session, task, response)


@tasks.post("/tasks/{task_id}/complete", response_model=TaskPublic)
def complete(
    task_id: Id,
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    response: Response,
    data: CompleteInput | None = None,
    if_match: IfMatch = None,
) -> TaskPublic:
    """Mark the task done; the interaction is logged and the next check-in moves."""
    data = data or CompleteInput()
    task = _load(request, session, task_id, if_match)
    complete_task(
        session,
        task,
        outcome=data.outcome,
        channel=data.channel,
        member=acting_member(session, actor),
    )
    return _public(session, task, response)


@tasks.post("/tasks/{task_id}/cancel", response_model=TaskPublic)
def cancel(
    task_id: Id,
    request: Request,
    session: DbSession,
    response: Response,
    data: CancelInput | None = None,
    if_match: IfMatch = None,
) -> TaskPublic:
    """Close the task without doing it."""
    data = data or CancelInput()
    task = _load(request, session, task_id, if_match)
    service.cancel_task(session, task, reason=data.reason)
    return _public(session, task, response)
