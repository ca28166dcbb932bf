"""/api/promises: make, list (PromiseFilter), progress updates, keep, break, cancel."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Response
from pydantic import Field

from keepwell.promises import service
from keepwell.promises.models import Promise, Status
from keepwell.promises.schemas import (
    PromiseDetail,
    PromisePublic,
    PromiseUpdatePublic,
)
from keepwell.touches.models import Channel
from keepwell.web.deps import DbSession, Me, customer_by_id, member_by_id, router
from keepwell.web.records import ListQuery, api_list, locked, named, versioned
from keepwell.web.schemas import Id, Input, Long, Moment, text


class PromiseCreate(Input):
    customer_id: Id
    what: Annotated[str, text(service.MAX_WHAT, min_length=1)]
    due_at: Moment
    member_id: Id | None = None  # who must keep it; default: the customer's owner
    made_at: Moment | None = None  # default: now


class ProgressUpdateInput(Input):
    note: Annotated[str, text(20_000, min_length=1)]
    new_due_at: Moment | None = None  # a later one is a slip
    channel: Channel = "email"


class KeepInput(Input):
    outcome: Long = ""
    at: Moment | None = None  # default: now


class BreakInput(Input):
    outcome: Annotated[str, text(20_000, min_length=1)]


class CancelInput(Input):
    reason: Long = ""


class PromiseQuery(ListQuery[service.PromiseFilter]):
    """Promises, soonest due first."""

    status: Status | None = None
    member_id: Annotated[Id | None, named("owner", "Member id of who must keep them.")] = None
    customer_id: Annotated[Id | None, named("customer")] = None
    due_before: Annotated[Moment | None, Field(description="Due before this time.")] = None
    due_after: Annotated[Moment | None, Field(description="Due at or after this time.")] = None
    overdue: bool = False
    limit: Annotated[int, Field(ge=1, le=service.MAX_LIMIT)] = 50


promises = router("promises")
LockedPromise = Annotated[Promise, Depends(locked(Promise, "promise"))]
api_list(promises, "/promises", PromiseQuery, service.list_promises, PromisePublic)


def _public(promise: Promise) -> PromisePublic:
    return PromisePublic.model_validate(promise)


@promises.post("/promises", response_model=PromisePublic, status_code=201)
def make_promise(data: PromiseCreate, session: DbSession, response: Response) -> PromisePublic:
    """Record a promise made to a customer."""
    promise = service.make_promise(
        session,
        customer_by_id(session, data.customer_id),
        what=data.what,
        due_at=data.due_at,
        member=member_by_id(session, data.member_id, "member_id"),
        made_at=data.made_at,
    )
    return versioned(response, promise, _public(promise))


@promises.get("/promises/{promise_id}", response_model=PromiseDetail)
def get_promise(promise_id: Id, session: DbSession, response: Response) -> PromiseDetail:
    """A promise and its progress updates (oldest first); the ETag is its version."""
    promise = service.get_promise(session, promise_id)
    updates = [PromiseUpdatePublic.model_validate(u) for u in service.updates_of(session, promise)]
    return PromiseDetail(promise=versioned(response, promise, _public(promise)), updates=updates)


@promises.post("/promises/{promise_id}/updates", response_model=PromisePublic, status_code=201)
def progress_update(
    promise: LockedPromise, data: ProgressUpdateInput, session: DbSession, me: Me
) -> PromisePublic:
    """Tell the customer how the promise stands (logged as an interaction); a later
    `new_due_at` is a slip."""
    service.progress_update(
        session,
        promise,
        note=data.note,
        new_due_at=data.new_due_at,
        channel=data.channel,
        member=me,
    )
    return _public(promise)


@promises.post("/promises/{promise_id}/keep", response_model=PromisePublic)
def keep_promise(
    promise: LockedPromise, session: DbSession, data: KeepInput = KeepInput()
) -> PromisePublic:
    """The promise was kept: `kept` by the due date in force, else `kept_late`."""
    service.complete_promise(session, promise, outcome=data.outcome, at=data.at)
    return _public(promise)


@promises.post("/promises/{promise_id}/break", response_model=PromisePublic)
def break_promise(promise: LockedPromise, data: BreakInput, session: DbSession) -> PromisePublic:
    """The promise will not be kept; say what happened."""
    service.break_promise(session, promise, outcome=data.outcome)
    return _public(promise)


@promises.post("/promises/{promise_id}/cancel", response_model=PromisePublic)
def cancel_promise(
    promise: LockedPromise, session: DbSession, data: CancelInput = CancelInput()
) -> PromisePublic:
    """The promise no longer applies (it leaves the kept rate)."""
    service.cancel_promise(session, promise, reason=data.reason)
    return _public(promise)
