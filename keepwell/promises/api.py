"""/api/promises: make, list (PromiseFilter), progress updates, keep, break, cancel."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

from keepwell.promises import service
from keepwell.promises.models import Promise, Status
from keepwell.promises.schemas import PromiseDetail, PromisePublic, PromiseUpdatePublic
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


promises = router("promises")


def _load(request: Request, session: DbSession, promise_id: int, if_match: str | None) -> Promise:
    promise = for_update(session, Promise, promise_id, "promise")
    check_version(request, "promise", promise.version, if_match)
    return promise


def _public(promise: Promise, response: Response) -> PromisePublic:
    response.headers["ETag"] = etag(promise.version)
    return PromisePublic.model_validate(promise)


@promises.get("/promises", response_model=list[PromisePublic])
def list_promises(
    session: DbSession,
    status: Status | None = None,
    owner: Annotated[Id | None, Query(description="Member id of who must keep them.")] = None,
    customer: Id | None = None,
    due_before: Annotated[Moment | None, Query(description="Due before this time.")] = None,
    due_after: Annotated[Moment | None, Query(description="Due at or after this time.")] = None,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT)] = 50,
) -> list[PromisePublic]:
    """Promises, soonest due first."""
    filters = service.PromiseFilter(
        status=status,
        member_id=owner,
        customer_id=customer,
        due_before=due_before,
        due_after=due_after,
        overdue=overdue,
        limit=limit,
    )
    return [PromisePublic.model_validate(p) for p in service.list_promises(session, filters)]


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
    return _public(promise, response)


@promises.get("/promises/{promise_id}", response_model=PromiseDetail)
def get_promise(promise_id: Id, session: DbSession, response: Response) -> PromiseDetail:
    """A promise and its progress updates (oldest first); the ETag is its version."""
    promise = service.get_promise(session, promise_id)
    updates = [PromiseUpdatePublic.model_validate(u) for u in service.updates_of(session, promise)]
    return PromiseDetail(promise=_public(promise, response), updates=updates)


@promises.post("/promises/{promise_id}/updates", response_model=PromisePublic, status_code=201)
def progress_update(
    promise_id: Id,
    data: ProgressUpdateInput,
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    response: Response,
    if_match: IfMatch = None,
) -> PromisePublic:
    """Tell the customer how the promise stands (logged as an interaction); a later
    `new_due_at` is a slip."""
    promise = _load(request, session, promise_id, if_match)
    service.progress_update(
        session,
        promise,
        note=data.note,
        new_due_at=data.new_due_at,
        channel=data.channel,
        member=acting_member(session, actor),
    )
    return _public(promise, response)


@promises.post("/promises/{promise_id}/keep", response_model=PromisePublic)
def keep_promise(
    promise_id: Id,
    request: Request,
    session: DbSession,
    response: Response,
    data: KeepInput | None = None,
    if_match: IfMatch = None,
) -> PromisePublic:
    """The promise was kept: `kept` by the due date in force, else `kept_late`."""
    data = data or KeepInput()
    promise = _load(request, session, promise_id, if_match)
    service.complete_promise(session, promise, outcome=data.outcome, at=data.at)
    return _public(promise, response)


@promises.post("/promises/{promise_id}/break", response_model=PromisePublic)
def break_promise(
    promise_id: Id,
    data: BreakInput,
    request: Request,
    session: DbSession,
    response: Response,
    if_match: IfMatch = None,
) -> PromisePublic:
    """The promise will not be kept; say what happened."""
    promise = _load(request, session, promise_id, if_match)
    service.break_promise(session, promise, outcome=data.outcome)
    return _public(promise, response)


@promises.post("/promises/{promise_id}/cancel", response_model=PromisePublic)
def cancel_promise(
    promise_id: Id,
    request: Request,
    session: DbSession,
    response: Response,
    data: CancelInput | None = None,
    if_match: IfMatch = None,
) -> PromisePublic:
    """The promise no longer applies (it leaves the kept rate)."""
    data = data or CancelInput()
    promise = _load(request, session, promise_id, if_match)
    service.cancel_promise(session, promise, reason=data.reason)
    return _public(promise, response)
