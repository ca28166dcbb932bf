"""Cases: open, respond, resolve, confirm with the customer, reopen; the list and metrics.

A case moves open → resolved → confirmed, and back to open when it is reopened. Resolving
creates a task to check with the customer that the problem is really gone; only a person
confirming closes the loop. Silence is not confirmation: a resolved case stays resolved,
and its confirmation task open, until someone confirms it (docs/cases.md).
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.accounts.models import TeamMember
from keepwell.accounts.service import member_or_none
from keepwell.cases.models import ROOT_CAUSES, SEVERITIES, STATUSES, Case
from keepwell.customers.models import Customer
from keepwell.db import flush_or_conflict, get_or_raise
from keepwell.errors import (
    InvalidInput,
    check_choice,
    check_limit,
    check_offset,
    check_text,
    require_aware,
)
from keepwell.tasks.models import Task
from keepwell.tasks.service import cancel_task, create_task, finish_task, open_task
from keepwell.touches.models import Touch
from keepwell.touches.service import MAX_SUMMARY, log_touch

MAX_TITLE = 300
MAX_LIMIT = 500
MAX_CONFIRM_AFTER_DAYS = 365
FUTURE_SLACK = timedelta(days=1)
CONFIRM_KIND = "confirm_case"


def get_case(session: Session, case_id: int) -> Case:
    return get_or_raise(session, Case, case_id, "case")


def confirmation_key(case: Case) -> str:
    """The dedupe key of the confirmation task for the case's current resolution."""
    return f"confirm-case:{case.id}:{case.reopened_count}"


def open_case(
    session: Session,
    customer: Customer,
    *,
    title: str,
    description: str = "",
    severity: str = "normal",
    member: TeamMember | None = None,
    opened_at: datetime | None = None,
) -> Case:
    """Record a problem the customer raised; `member` handles it (default: their owner)."""
    title = check_text(
        "title",
        " ".join(title.split()),
        MAX_TITLE,
        required="say in a few words what the problem is",
    )
    description = _text("description", description)
    severity = severity.strip().lower()
    if severity not in SEVERITIES:
        raise InvalidInput("severity", f"use one of {', '.join(SEVERITIES)}, not {severity!r}")
    now = clock.now()
    when = opened_at if opened_at is not None else now
    require_aware("opened_at", when)
    if when > now + FUTURE_SLACK:
        raise InvalidInput("opened_at", "a case cannot be opened in the future")
    case = Case(
        customer_id=customer.id,
        member_id=member.id if member is not None else customer.owner_id,
        title=title,
        description=description,
        severity=severity,
        status="open",
        opened_at=when,
        root_cause="",
        prevention="",
        resolution="",
        reopened_count=0,
    )
    session.add(case)
    flush_or_conflict(session, "case")
    return case


def respond(
    session: Session,
    case: Case,
    *,
    summary: str,
    channel: str = "email",
    member: TeamMember | None = None,
) -> Touch:
    """Answer the customer about the case (an outbound touch); the first answer sets the
    case's first response time. `member` defaults to the case's handler."""
    if case.status == "confirmed":
        raise InvalidInput("status", f"case #{case.id} is confirmed closed; reopen it first")
    summary = summary.strip()
    if not summary:
        raise InvalidInput("summary", "say what the customer was told")
    touch = log_touch(
        session,
        _customer(session, case),
        channel=channel,
        summary=summary,
        member=member if member is not None else member_or_none(session, case.member_id),
        direction="outbound",
        case_id=case.id,
    )
    if case.first_response_at is None:
        case.first_response_at = touch.happened_at
    flush_or_conflict(session, "case")
    return touch


def resolve(
    session: Session,
    case: Case,
    *,
    resolution: str,
    root_cause_category: str,
    root_cause: str = "",
    prevention: str = "",
    confirm_after_days: int = 7,
    member: TeamMember | None = None,
) -> Task:
    """Mark the open case resolved and return the task to confirm it with the customer,
    due `confirm_after_days` after today. The task goes to `member`, else the case's
    handler, else the customer's owner."""
    _require_status(case, "open", "resolve")
    resolution = _text("resolution", resolution)
    if not resolution:
        raise InvalidInput("resolution", "say what was done to solve it")
    category = root_cause_category.strip().lower()
    if category not in ROOT_CAUSES:
        raise InvalidInput(
            "root_cause_category", f"use one of {', '.join(ROOT_CAUSES)}, not {category!r}"
        )
    root_cause = _text("root_cause", root_cause)
    prevention = _text("prevention", prevention)
    if not 0 <= confirm_after_days <= MAX_CONFIRM_AFTER_DAYS:
        raise InvalidInput(
            "confirm_after_days",
            f"give 0 to {MAX_CONFIRM_AFTER_DAYS} days, not {confirm_after_days}",
        )
    customer = _customer(session, case)
    now = clock.now()
    doer = member if member is not None else member_or_none(session, case.member_id)
    task = create_task(
        session,
        customer,
        kind=CONFIRM_KIND,
        due_on=now.date() + timedelta(days=confirm_after_days),
        reason=confirmation_reason(customer, case, resolution, confirm_after_days),
        member=doer,
        source="case",
        dedupe_key=confirmation_key(case),
        case_id=case.id,
    )
    case.status = "resolved"
    case.resolved_at = now
    case.confirmed_at = None
    case.resolution = resolution
    case.root_cause_category = category
    case.root_cause = root_cause
    case.prevention = prevention
    flush_or_conflict(session, "case")
    return task


def confirmation_reason(customer: Customer, case: Case, resolution: str, days: int) -> str:
    """Why the confirmation task is there, in one readable sentence."""
    who = customer.name.strip() or "the customer"
    ago = "today" if days == 0 else "a day ago" if days == 1 else f"{days} days ago"
    return (
        f"Check that {who} is really satisfied: case '{_short(case.title, 120)}' "
        f"was resolved {ago} ({_short(resolution, 160)})."
    )


def confirm(
    session: Session,
    case: Case,
    *,
    note: str = "",
    member: TeamMember | None = None,
    channel: str | None = "call",
) -> Case:
    """The customer confirmed the problem is gone: the case is confirmed and its open
    confirmation task completed (the conversation logged as a touch on `channel`, unless
    None)."""
    _require_status(case, "resolved", "confirm")
    note = _text("note", note)
    outcome = (
        note or f"Confirmed with the customer that case '{_short(case.title, 120)}' is solved."
    )
    case.status = "confirmed"
    case.confirmed_at = clock.now()
    task = open_task(session, case.customer_id, confirmation_key(case))
    if task is not None:
        finish_task(session, task, outcome=outcome, channel=channel, member=member)
    elif channel is not None:  # the task was closed some other way: log the conversation
        log_touch(
            session,
            _customer(session, case),
            channel=channel,
            summary=outcome,
            member=member if member is not None else member_or_none(session, case.member_id),
            direction="outbound",
            case_id=case.id,
        )
    flush_or_conflict(session, "case")
    return case


def reopen(session: Session, case: Case, *, reason: str, member: TeamMember | None = None) -> Case:
    """The problem is back (or was never gone): the case opens again, its open
    confirmation task is cancelled, and the customer's word is logged as an inbound note
    (recorded by `member`, default the case's handler)."""
    if case.status == "open":
        raise InvalidInput("status", f"cannot reopen case #{case.id}: it is open")
    reason = _text("reason", reason)
    if not reason:
        raise InvalidInput("reason", "say why the case is reopened")
    log_touch(  # first: it checks its input before anything is written
        session,
        _customer(session, case),
        channel="note",
        summary=f"Case reopened: {reason}",
        member=member if member is not None else member_or_none(session, case.member_id),
        direction="inbound",
        case_id=case.id,
    )
    task = open_task(session, case.customer_id, confirmation_key(case))
    if task is not None:
        cancel_task(session, task, reason=_short(f"case reopened: {reason}", 1000))
    case.status = "open"
    case.reopened_count += 1
    case.last_reopened_at = clock.now()
    case.resolved_at = None
    case.confirmed_at = None
    flush_or_conflict(session, "case")
    return case


def case_touches(session: Session, case: Case) -> list[Touch]:
    """Every interaction logged on the case, oldest first."""
    return list(
        session.scalars(
            sa.select(Touch).where(Touch.case_id == case.id).order_by(Touch.happened_at, Touch.id)
        )
    )


def case_tasks(session: Session, case: Case) -> list[Task]:
    """The case's tasks (its confirmation tasks, one per resolution), oldest first."""
    return list(session.scalars(sa.select(Task).where(Task.case_id == case.id).order_by(Task.id)))


# --- the list ---------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFilter:
    """One definition of the cases list, for the CLI, the API and the pages.

    `waiting_for_first_response` keeps open cases nobody has answered yet, oldest first;
    otherwise the newest cases come first.
    """

    status: str | None = None
    member_id: int | None = None
    customer_id: int | None = None
    severity: str | None = None
    waiting_for_first_response: bool = False
    offset: int = 0  # rows skipped (pagination), at most MAX_OFFSET
    limit: int = 50

    def __post_init__(self) -> None:
        check_choice("status", self.status, STATUSES)
        check_choice("severity", self.severity, SEVERITIES)
        check_limit(self.limit, MAX_LIMIT)
        check_offset(self.offset)

    def query(self) -> sa.Select[Case]:
        q = sa.select(Case)
        if self.status is not None:
            q = q.where(Case.status == self.status)
        if self.member_id is not None:
            q = q.where(Case.member_id == self.member_id)
        if self.customer_id is not None:
            q = q.where(Case.customer_id == self.customer_id)
        if self.severity is not None:
            q = q.where(Case.severity == self.severity)
        if self.waiting_for_first_response:
            q = q.where(Case.status == "open", Case.first_response_at.is_(None))
            q = q.order_by(Case.opened_at, Case.id)
        else:
            q = q.order_by(Case.opened_at.desc(), Case.id.desc())
        return q.offset(self.offset).limit(self.limit)


def list_cases(session: Session, filters: CaseFilter) -> list[Case]:
    return list(session.scalars(filters.query()))


# --- metrics ----------------------------------------------------------------------


@dataclass(frozen=True)
class CaseMetrics:
    """How cases went in [start, end).

    `opened`: cases opened in the period; `first_response_*`: hours from opening to the
    first answer, over those of them answered; `resolved`: cases whose (latest)
    resolution falls in the period, still resolved or confirmed; `resolution_*`: hours
    from opening to that resolution; `reopened`: cases opened in the period that were
    reopened at least once; `root_causes`: categories of the resolved ones, most frequent
    first.
    """

    start: datetime
    end: datetime
    opened: int
    resolved: int
    median_hours_to_first_response: float | None
    mean_hours_to_first_response: float | None
    median_hours_to_resolution: float | None
    mean_hours_to_resolution: float | None
    reopened: int
    root_causes: list[tuple[str, int]]


def case_metrics(session: Session, *, start: datetime, end: datetime) -> CaseMetrics:
    require_aware("start", start)
    require_aware("end", end)
    if end <= start:
        raise InvalidInput("end", "the end of the period must come after its start")
    opened = session.execute(
        sa.select(Case.opened_at, Case.first_response_at, Case.reopened_count).where(
            Case.opened_at >= start, Case.opened_at < end
        )
    ).all()
    resolved = session.execute(
        sa.select(Case.opened_at, Case.resolved_at, Case.root_cause_category).where(
            Case.resolved_at >= start,
            Case.resolved_at < end,
            Case.status.in_(("resolved", "confirmed")),
        )
    ).all()
    to_first = [_hours(o, r) for o, r, _ in opened if r is not None]
    to_resolution = [_hours(o, r) for o, r, _ in resolved if r is not None]
    causes = Counter(c or "unknown" for _, _, c in resolved)
    return CaseMetrics(
        start=start,
        end=end,
        opened=len(opened),
        resolved=len(resolved),
        median_hours_to_first_response=statistics.median(to_first) if to_first else None,
        mean_hours_to_first_response=statistics.fmean(to_first) if to_first else None,
        median_hours_to_resolution=statistics.median(to_resolution) if to_resolution else None,
        mean_hours_to_resolution=statistics.fmean(to_resolution) if to_resolution else None,
        reopened=sum(1 for _, _, n in opened if n > 0),
        root_causes=sorted(causes.items(), key=lambda item: (-item[1], item[0])),
    )


# --- helpers ----------------------------------------------------------------------


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def _require_status(case: Case, status: str, action: str) -> None:
    if case.status != status:
        raise InvalidInput("status", f"cannot {action} case #{case.id}: it is {case.status}")


def _text(field: str, text: str) -> str:
    return check_text(field, text, MAX_SUMMARY)


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split()).rstrip(".")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _customer(session: Session, case: Case) -> Customer:
    return get_or_raise(session, Customer, case.customer_id, "customer")
