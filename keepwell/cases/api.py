"""/api/cases: open, list (CaseFilter), respond, resolve, confirm, reopen."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Response
from pydantic import Field

from keepwell.cases import service
from keepwell.cases.models import Case, RootCause, Severity, Status
from keepwell.cases.schemas import (
    CaseDetail,
    CasePublic,
)
from keepwell.tasks.schemas import task_views
from keepwell.touches.models import Channel
from keepwell.touches.schemas import InteractionPublic
from keepwell.web.deps import DbSession, Me, customer_by_id, member_by_id, router
from keepwell.web.records import ListQuery, api_list, locked, named, versioned
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


class CaseQuery(ListQuery[service.CaseFilter]):
    """Cases, newest first (`waiting`: oldest unanswered first)."""

    status: Status | None = None
    member_id: Annotated[Id | None, named("owner", "Member id of who handles them.")] = None
    customer_id: Annotated[Id | None, named("customer")] = None
    severity: Severity | None = None
    waiting_for_first_response: Annotated[
        bool, named("waiting", "Open cases nobody has answered yet.")
    ] = False
    limit: Annotated[int, Field(ge=1, le=service.MAX_LIMIT)] = 50


cases = router("cases")
LockedCase = Annotated[Case, Depends(locked(Case, "case"))]
api_list(cases, "/cases", CaseQuery, service.list_cases, CasePublic)


def _detail(session: DbSession, case: Case) -> CaseDetail:
    interactions = [
        InteractionPublic.model_validate(t) for t in service.case_touches(session, case)
    ]
    tasks = task_views(session, service.case_tasks(session, case))
    return CaseDetail(case=CasePublic.model_validate(case), interactions=interactions, tasks=tasks)


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
    return versioned(response, case, _detail(session, case))


@cases.get("/cases/{case_id}", response_model=CaseDetail)
def get_case(case_id: Id, session: DbSession, response: Response) -> CaseDetail:
    """A case with its conversation and confirmation tasks; the ETag is its version."""
    case = service.get_case(session, case_id)
    return versioned(response, case, _detail(session, case))


@cases.post("/cases/{case_id}/responses", response_model=CaseDetail, status_code=201)
def respond(case: LockedCase, data: RespondInput, session: DbSession, me: Me) -> CaseDetail:
    """Answer the customer about the case (logged as an interaction)."""
    service.respond(session, case, summary=data.summary, channel=data.channel, member=me)
    return _detail(session, case)


@cases.post("/cases/{case_id}/resolve", response_model=CaseDetail)
def resolve(case: LockedCase, data: ResolveInput, session: DbSession) -> CaseDetail:
    """Resolve the open case; a task to confirm it with the customer is made."""
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
    return _detail(session, case)


@cases.post("/cases/{case_id}/confirm", response_model=CaseDetail)
def confirm(
    case: LockedCase, session: DbSession, me: Me, data: ConfirmInput = ConfirmInput()
) -> CaseDetail:
    """The customer confirmed the problem is gone."""
    service.confirm(session, case, note=data.note, member=me, channel=data.channel)
    return _detail(session, case)


@cases.post("/cases/{case_id}/reopen", response_model=CaseDetail)
def reopen(case: LockedCase, data: ReopenInput, session: DbSession, me: Me) -> CaseDetail:
    """The problem is back: the case opens again."""
    service.reopen(session, case, reason=data.reason, member=me)
    return _detail(session, case)
