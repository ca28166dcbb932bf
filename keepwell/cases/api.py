"""/api/cases: open, list (CaseFilter), respond, resolve, confirm, reopen."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response
from pydantic import Field

from keepwell.cases import service
from keepwell.cases.models import Case, RootCause, Severity, Status
from keepwell.cases.schemas import CaseDetail, CasePublic
from keepwell.tasks.schemas import task_views
from keepwell.touches.models import Channel
from keepwell.touches.schemas import InteractionPublic
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


class CaseCreate(Input):
    customer_id: Id
    title: Annotated[str, text(service.MAX_TITLE, min_length=1)]
    description: Long = ""
    severity: Severity = "normal"
    member_id: Id | None = None  # who handles it; default: the customer's owner
    opened_at: Moment | None = None  # default: now


class RespondInput(Input):
    summary: Annotated[str, text(20_000, min_length=1)]
    channel: Channel = "email"


class ResolveInput(Input):
    resolution: Annotated[str, text(20_000, min_length=1)]
    root_cause_category: RootCause
    root_cause: Long = ""
    prevention: Long = ""
    confirm_after_days: Annotated[int, Field(ge=0, le=service.MAX_CONFIRM_AFTER_DAYS)] = 7
    member_id: Id | None = None  # who checks with the customer; default: the handler


class ConfirmInput(Input):
    note: Long = ""
    channel: Channel | None = "call"  # null: nothing is logged


class ReopenInput(Input):
    reason: Annotated[str, text(20_000, min_length=1)]


cases = router("cases")


def _load(request: Request, session: DbSession, case_id: int, if_match: str | None) -> Case:
    case = for_update(session, Case, case_id, "case")
    check_version(request, "case", case.version, if_match)
    return case


def _detail(session: DbSession, case: Case, response: Response) -> CaseDetail:
    response.headers["ETag"] = etag(case.version)
    return CaseDetail(
        case=CasePublic.model_validate(case),
        interactions=[
            InteractionPublic.model_validate(t) for t in service.case_touches(session, case)
        ],
        tasks=task_views(session, service.case_tasks(session, case)),
    )


@cases.get("/cases", response_model=list[CasePublic])
def list_cases(
    session: DbSession,
    status: Status | None = None,
    owner: Annotated[Id | None, Query(description="Member id of who handles them.")] = None,
    customer: Id | None = None,
    severity: Severity | None = None,
    waiting: Annotated[bool, Query(description="Open cases nobody has answered yet.")] = False,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT)] = 50,
) -> list[CasePublic]:
    """Cases, newest first (`waiting`: oldest unanswered first)."""
    filters = service.CaseFilter(
        status=status,
        member_id=owner,
        customer_id=customer,
        severity=severity,
        waiting_for_first_response=waiting,
        limit=limit,
    )
    return [CasePublic.model_validate(c) for c in service.list_cases(session, filters)]


@cases.post("/cases", response_model=CaseDetail, status_code=201)
def open_case(data: CaseCreate, session: DbSession, response: Response) -> CaseDetail:
    """Record a problem a customer raised."""
    case = service.open_case(
        session,
        customer_by_id(session, data.customer_id),
        title=data.title,
        description=data.description,
        severity=data.severity,
        member=member_by_id(session, data.member_id, "member_id"),
        opened_at=data.opened_at,
    )
    return _detail(session, case, response)


@cases.get("/cases/{case_id}", response_model=CaseDetail)
def get_case(case_id: Id, session: DbSession, response: Response) -> CaseDetail:
    """A case with its conversation and confirmation tasks; the ETag is its version."""
    return _detail(session, service.get_case(session, case_id), response)


@cases.post("/cases/{case_id}/responses", response_model=CaseDetail, status_code=201)
def respond(
    case_id: Id,
    data: RespondInput,
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    response: Response,
    if_match: IfMatch = None,
) -> CaseDetail:
    """Answer the customer about the case (logged as an interaction)."""
    case = _load(request, session, case_id, if_match)
    service.respond(
        session,
        case,
        summary=data.summary,
        channel=data.channel,
        member=acting_member(session, actor),
    )
    return _detail(session, case, response)


@cases.post("/cases/{case_id}/resolve", response_model=CaseDetail)
def resolve(
    case_id: Id,
    data: ResolveInput,
    request: Request,
    session: DbSession,
    response: Response,
    if_match: IfMatch = None,
) -> CaseDetail:
    """Resolve the open case; a task to confirm it with the customer is made."""
    case = _load(request, session, case_id, if_match)
    service.resolve(
        session,
        case,
        resolution=data.resolution,
        root_cause_category=data.root_cause_category,
        root_cause=data.root_cause,
        prevention=data.prevention,
        confirm_after_days=data.confirm_after_days,
        member=member_by_id(session, data.member_id, "member_id"),
    )
    return _detail(session, case, response)


@cases.post("/cases/{case_id}/confirm", response_model=CaseDetail)
def confirm(
    case_id: Id,
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    response: Response,
    data: ConfirmInput | None = None,
    if_match: IfMatch = None,
) -> CaseDetail:
    """The customer confirmed the problem is gone."""
    data = data or ConfirmInput()
    case = _load(request, session, case_id, if_match)
    service.confirm(
        session, case, note=data.note, member=acting_member(session, actor), channel=data.channel
    )
    return _detail(session, case, response)


@cases.post("/cases/{case_id}/reopen", response_model=CaseDetail)
def reopen(
    case_id: Id,
    data: ReopenInput,
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    response: Response,
    if_match: IfMatch = None,
) -> CaseDetail:
    """The problem is back: the case opens again."""
    case = _load(request, session, case_id, if_match)
    service.reopen(session, case, reason=data.reason, member=acting_member(session, actor))
    return _detail(session, case, response)
