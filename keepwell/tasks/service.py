"""Operations on tasks: create (never twice for one reason), complete, cancel, snooze, list.

A task names one thing to do for one customer and why now. `dedupe_key` names the reason
("follow_up:ask how the trial went", "confirm-case:12"); the unique constraint on
(customer_id, dedupe_key) guarantees that the same reason never becomes a second task,
even when two processes create it at the same moment.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.accounts.models import WRITERS, TeamMember
from keepwell.accounts.service import member_or_none
from keepwell.customers.context import personal_context
from keepwell.customers.models import Customer
from keepwell.db import flush_or_conflict, get_or_raise
from keepwell.errors import InvalidInput, check_choice, check_limit, check_offset, check_text
from keepwell.tasks.models import STATUSES, Task
from keepwell.touches import models as touches
from keepwell.touches.service import MAX_SUMMARY, log_touch

MAX_REASON = 1000
MAX_KIND = 40
MAX_SOURCE = 100
MAX_DEDUPE_KEY = 200
MAX_LIMIT = 500
_HASH_CHARS = 16


def dedupe_key_for(text: str) -> str:
    """`text` as a dedupe key: whitespace collapsed, lower case, at most 200 characters.

    A longer key keeps its head and replaces the tail by a hash of the whole, so two
    long reasons that differ only at the end stay two keys.
    """
    key = " ".join(text.split()).lower()
    if len(key) <= MAX_DEDUPE_KEY:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:_HASH_CHARS]
    return f"{key[: MAX_DEDUPE_KEY - _HASH_CHARS - 1]}#{digest}"


def default_dedupe_key(kind: str, reason: str) -> str:
    """The dedupe key of a task given no key of its own: its kind and reason."""
    return dedupe_key_for(f"{' '.join(kind.split()).lower()}:{' '.join(reason.split())}")


def create_task(
    session: Session,
    customer: Customer,
    *,
    kind: str,
    due_on: date,
    reason: str,
    context: str | None = None,
    member: TeamMember | None = None,
    source: str = "person",
    dedupe_key: str | None = None,
    case_id: int | None = None,
) -> Task:
    """A task for `customer`, or the one that exists already for the same reason.

    The same (customer, dedupe_key) is never a second task, open or closed: the existing
    task is returned unchanged. `dedupe_key` defaults to "kind:reason"; `member` to the
    customer's owner; `context` to what to mention to be personal (personal_context).
    """
    kind = " ".join(kind.split()).lower()
    if not kind or len(kind) > MAX_KIND:
        raise InvalidInput("kind", f"give a kind of 1 to {MAX_KIND} characters")
    why = "say why the task is there, in one sentence"
    reason = check_text("reason", " ".join(reason.split()), MAX_REASON, required=why)
    source = source.strip()
    if not source or len(source) > MAX_SOURCE:
        raise InvalidInput("source", f"give a source of 1 to {MAX_SOURCE} characters")
    if not isinstance(due_on, date):
        raise InvalidInput("due_on", "give a date")
    key = dedupe_key_for(dedupe_key) if dedupe_key is not None else default_dedupe_key(kind, reason)
    if not key:
        raise InvalidInput("dedupe_key", "must not be empty")

    existing = find_task(session, customer.id, key)
    if existing is not None:
        return existing
    task = Task(
        customer_id=customer.id,
        member_id=member.id if member is not None else customer.owner_id,
        kind=kind,
        due_on=due_on,
        reason=reason,
        context=context.strip() if context is not None else personal_context(session, customer),
        source=source,
        dedupe_key=key,
        status="open",
        case_id=case_id,
        created_at=clock.now(),
    )
    try:
        # The unique constraint is the final guard against a concurrent creator: the
        # savepoint keeps the surrounding transaction usable when it fires.
        with session.begin_nested():
            session.add(task)
            session.flush()
    except IntegrityError as exc:
        winner = find_task(session, customer.id, key)
        if winner is None:  # not the duplicate: an unknown customer, member or case
            raise InvalidInput("task", f"refused by the database: {exc.orig}") from None
        return winner
    return task


def finish_task(
    session: Session,
    task: Task,
    *,
    outcome: str = "",
    channel: str | None = "call",
    member: TeamMember | None = None,
) -> Task:
    """Mark the task done, and nothing more: completing a task as a person does (a case's
    confirmation task confirms the case) is `keepwell.tasks.completion.complete_task`.
    Unless `channel` is None, the interaction is logged as a touch (which moves the
    customer's last contact and next check-in).

    `member` is who did it (default: the task's assignee).
    """
    _require_open(task, "complete")
    outcome = check_text("outcome", outcome, MAX_SUMMARY)
    if channel is not None:
        channel = channel.strip().lower()
        if channel not in touches.CHANNELS:
            raise InvalidInput(
                "channel", f"unknown channel {channel!r}; use one of {', '.join(touches.CHANNELS)}"
            )
    doer = member if member is not None else member_or_none(session, task.member_id)
    task.status = "done"
    task.completed_at = clock.now()
    task.outcome = outcome
    flush_or_conflict(session, "task")  # a task someone else changed meanwhile stops here
    if channel is not None:
        customer = get_or_raise(session, Customer, task.customer_id, "customer")
        log_touch(
            session,
            customer,
            channel=channel,
            summary=outcome or task.reason,
            member=doer,
            direction="outbound",
            case_id=task.case_id,
        )
    return task


def cancel_task(session: Session, task: Task, *, reason: str = "") -> Task:
    """Close the task without doing it; `reason` is kept as its outcome."""
    _require_open(task, "cancel")
    reason = check_text("reason", reason, MAX_REASON)
    task.status = "cancelled"
    task.outcome = reason
    flush_or_conflict(session, "task")
    return task


def snooze_task(session: Session, task: Task, *, until: date) -> Task:
    """Hide the open task from the lists until `until` (after today). Its due date stays."""
    _require_open(task, "snooze")
    today = clock.today()
    if until <= today:
        raise InvalidInput("until", f"snooze until a day after today ({today.isoformat()})")
    task.snoozed_until = until
    flush_or_conflict(session, "task")
    return task


def reassign_task(session: Session, task: Task, member: TeamMember | None) -> Task:
    """Give the open task to `member` (None: to nobody)."""
    _require_open(task, "reassign")
    _check_assignee(member)
    new_id = member.id if member is not None else None
    if task.member_id != new_id:
        task.member_id = new_id
        flush_or_conflict(session, "task")
    return task


def _check_assignee(member: TeamMember | None) -> None:
    """A task goes to someone who can complete it: an active admin or member (a viewer
    reads but changes nothing, so a task given to them would stay open for good)."""
    if member is None:
        return
    if not member.active:
        raise InvalidInput("member", f"{member.email} is not an active team member")
    if member.role not in WRITERS:
        raise InvalidInput(
            "member",
            f"{member.email} is a {member.role}, who can read but not complete tasks: "
            "give it to an admin or a member",
        )


def find_task(session: Session, customer_id: int, dedupe_key: str) -> Task | None:
    """The task for this customer and reason, whatever its status."""
    return session.scalar(
        sa.select(Task).where(
            Task.customer_id == customer_id, Task.dedupe_key == dedupe_key_for(dedupe_key)
        )
    )


def open_task(session: Session, customer_id: int, dedupe_key: str) -> Task | None:
    """The open task for this customer and reason, or None (none yet, or closed)."""
    task = find_task(session, customer_id, dedupe_key)
    return task if task is not None and task.status == "open" else None


def get_task(session: Session, task_id: int) -> Task:
    return get_or_raise(session, Task, task_id, "task")


@dataclass(frozen=True)
class TaskFilter:
    """One definition of the tasks list, for the CLI, the API and the pages.

    `status` None lists every status. Open tasks snoozed past today are left out unless
    `include_snoozed`. Sorted by due date, oldest first.
    """

    status: str | None = "open"
    member_id: int | None = None
    customer_id: int | None = None
    kind: str | None = None
    due_on_or_before: date | None = None
    include_snoozed: bool = False
    offset: int = 0  # rows skipped (pagination), at most MAX_OFFSET
    limit: int = 50

    def __post_init__(self) -> None:
        check_choice("status", self.status, STATUSES)
        check_limit(self.limit, MAX_LIMIT)
        check_offset(self.offset)

    def query(self) -> sa.Select[Task]:
        q = sa.select(Task)
        if self.status is not None:
            q = q.where(Task.status == self.status)
        if self.member_id is not None:
            q = q.where(Task.member_id == self.member_id)
        if self.customer_id is not None:
            q = q.where(Task.customer_id == self.customer_id)
        if self.kind:
            q = q.where(Task.kind == self.kind.strip().lower())
        if self.due_on_or_before is not None:
            q = q.where(Task.due_on <= self.due_on_or_before)
        if not self.include_snoozed:
            q = q.where(
                sa.or_(
                    Task.snoozed_until.is_(None),
                    Task.snoozed_until <= clock.today(),
                    Task.status != "open",
                )
            )
        return q.order_by(Task.due_on, Task.id).offset(self.offset).limit(self.limit)


def list_tasks(session: Session, filters: TaskFilter) -> list[Task]:
    return list(session.scalars(filters.query()))


def describe(session: Session, tasks: Sequence[Task]) -> list[dict[str, Any]]:
    """Tasks as plain data with their customer's name and assignee's e-mail (for JSON,
    tables and pages alike): three queries, however many tasks.
    """
    customer_ids = {t.customer_id for t in tasks}
    member_ids = {t.member_id for t in tasks if t.member_id is not None}
    names: dict[int, str] = {}
    if customer_ids:
        query = sa.select(Customer.id, Customer.name).where(Customer.id.in_(customer_ids))
        names = {cid: name for cid, name in session.execute(query)}
    emails: dict[int, str] = {}
    if member_ids:
        query = sa.select(TeamMember.id, TeamMember.email).where(TeamMember.id.in_(member_ids))
        emails = {mid: email for mid, email in session.execute(query)}
    return [
        {
            "id": t.id,
            "customer_id": t.customer_id,
            "customer": names.get(t.customer_id, ""),
            "member_id": t.member_id,
            "member": emails.get(t.member_id) if t.member_id is not None else None,
            "kind": t.kind,
            "due_on": t.due_on.isoformat(),
            "reason": t.reason,
            "context": t.context,
            "status": t.status,
            "snoozed_until": t.snoozed_until.isoformat() if t.snoozed_until else None,
            "completed_at": t.completed_at.isoformat() if t.completed_at else None,
            "outcome": t.outcome,
            "source": t.source,
            "dedupe_key": t.dedupe_key,
            "case_id": t.case_id,
        }
        for t in tasks
    ]


def _require_open(task: Task, action: str) -> None:
    if task.status != "open":
        raise InvalidInput("status", f"cannot {action} task #{task.id}: it is {task.status}")
