"""Running the playbooks: every enabled playbook, once for each day, idempotently.

`run(session, through=D)` evaluates each enabled playbook for every day after the last
complete day it was evaluated for (its ledger, `playbook_runs`) up to D: a day the desk
missed is caught up, not skipped; a day done is never done again. Today is not complete
until it is over: each run looks at it again, so what happens after a run (an order in
the afternoon) is found by the next one; the dedupe keys of tasks and messages make
that idempotent. A playbook that never ran starts at D (or at `since`). Each
playbook-day runs in a savepoint: one that fails is recorded and retried at the next
run, and the others go on. `dry_run` does it all and rolls it back.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.accounts.models import TeamMember
from keepwell.customers.context import contexts_for
from keepwell.customers.models import Customer
from keepwell.errors import InvalidInput
from keepwell.playbooks.models import JobRun, Playbook, PlaybookRun
from keepwell.playbooks.triggers import TRIGGERS, Condition, Hit
from keepwell.tasks.service import create_task, dedupe_key_for
from keepwell.touches.models import Touch

MAX_CATCH_UP_DAYS = 400
Progress = Callable[[int, int], None]


@dataclass
class PlaybookResult:
    name: str
    days: int = 0
    matched: int = 0
    tasks: int = 0
    messages: int = 0
    held: dict[str, int] = field(default_factory=dict)  # message not sent: why -> count
    errors: list[str] = field(default_factory=list)


@dataclass
class RunReport:
    through: date
    dry_run: bool
    days: int = 0
    tasks: int = 0
    messages: int = 0
    playbooks: list[PlaybookResult] = field(default_factory=list)
    job_id: int | None = None

    @property
    def errors(self) -> list[str]:
        return [e for p in self.playbooks for e in p.errors]


def condition_of(playbook: Playbook) -> Condition:
    """The playbook's condition on the customer, as SQL (erased customers never match)."""
    clauses: list[sa.ColumnElement[bool]] = [
        sa.or_(Customer.external_id.is_(None), ~Customer.external_id.startswith("erased:"))
    ]
    cond = playbook.condition or {}
    if "segment" in cond:
        clauses.append(Customer.segment == cond["segment"])
    if "min_revenue_minor" in cond:
        clauses.append(Customer.revenue_minor >= int(cond["min_revenue_minor"]))
    consent = cond.get("consent", "any")
    if consent in ("contactable", "marketing"):
        clauses.append(Customer.opted_out_at.is_(None))
    if consent == "marketing":
        clauses.append(Customer.marketing_consent.is_(True))
    return sa.and_(*clauses)


def run(
    session: Session,
    *,
    through: date | None = None,
    since: date | None = None,
    dry_run: bool = False,
    via: str = "cli",
    progress: Progress | None = None,
    only: str | None = None,
) -> RunReport:
    """Evaluate every enabled playbook (or only the one named) for each day not yet done."""
    through = through or clock.today()
    if through > clock.today():
        raise InvalidInput("date", f"{through.isoformat()} has not come yet")
    report = RunReport(through=through, dry_run=dry_run)
    job = JobRun(started_at=clock.now(), through=through, via=via[:20], error="")
    outer = session.begin_nested() if dry_run else None
    playbooks = [p for p in _enabled(session) if only is None or p.name == only]
    plans = {p.id: _days(session, p, through, since) for p in playbooks}
    total = sum(len(days) for days in plans.values())
    done = 0
    all_days = sorted({d for days in plans.values() for d in days})
    results = {p.id: PlaybookResult(p.name) for p in playbooks}
    for day in all_days:  # day by day, so a simulated history unfolds in order
        for playbook in playbooks:
            if day not in plans[playbook.id]:
                continue
            _one_day(session, playbook, day, results[playbook.id])
            done += 1
            if progress is not None:
                progress(done, total)
    report.playbooks = list(results.values())
    report.days = len(all_days)
    report.tasks = sum(r.tasks for r in report.playbooks)
    report.messages = sum(r.messages for r in report.playbooks)
    if outer is not None:
        outer.rollback()
        return report
    job.finished_at = clock.now()
    job.days, job.tasks, job.messages = report.days, report.tasks, report.messages
    job.errors = len(report.errors)
    job.error = "\n".join(report.errors)[:10_000]
    session.add(job)
    session.flush()
    report.job_id = job.id
    return report


def record_failure(session: Session, *, through: date, via: str, error: str) -> JobRun:
    """A run that could not even start (the database was away, …): recorded for the doctor."""
    now = clock.now()
    job = JobRun(
        started_at=now,
        finished_at=now,
        through=through,
        via=via[:20],
        days=0,
        tasks=0,
        messages=0,
        errors=1,
        error=error[:10_000],
    )
    session.add(job)
    session.flush()
    return job


def _enabled(session: Session) -> list[Playbook]:
    return list(
        session.scalars(sa.select(Playbook).where(Playbook.enabled.is_(True)).order_by(Playbook.id))
    )


def _days(session: Session, playbook: Playbook, through: date, since: date | None) -> list[date]:
    """The days to evaluate: after the last complete one; else from the first begun."""
    complete, begun = session.execute(
        sa.select(
            sa.func.max(sa.case((PlaybookRun.complete.is_(True), PlaybookRun.run_on))),
            sa.func.min(PlaybookRun.run_on),
        ).where(PlaybookRun.playbook_id == playbook.id)
    ).one()
    if complete is not None:
        first = complete + timedelta(days=1)
    else:
        first = begun if begun is not None else (since or through)
    first = max(first, through - timedelta(days=MAX_CATCH_UP_DAYS))
    return [first + timedelta(days=i) for i in range((through - first).days + 1)]


def _one_day(session: Session, playbook: Playbook, day: date, result: PlaybookResult) -> None:
    try:
        with session.begin_nested():
            trigger = TRIGGERS[playbook.trigger]
            hits = trigger(session, playbook.trigger_params or {}, day, condition_of(playbook))
            tasks, messages, held = _act(session, playbook, day, hits)
            _ledger(session, playbook, day, len(hits), tasks, messages)
    except Exception as exc:  # recorded, retried at the next run; the others go on
        line = traceback.format_exception_only(exc)[-1].strip()
        result.errors.append(f"{playbook.name} {day.isoformat()}: {line}"[:1000])
        return
    result.days += 1
    result.matched += len(hits)
    result.tasks += tasks
    result.messages += messages
    for why, count in held.items():
        result.held[why] = result.held.get(why, 0) + count


def _ledger(
    session: Session, playbook: Playbook, day: date, matched: int, tasks: int, messages: int
) -> None:
    """Note the day as evaluated; complete once it is over (today is looked at again at
    the next run, for what happens later today: the dedupe keys keep that idempotent)."""
    row = session.scalar(
        sa.select(PlaybookRun).where(
            PlaybookRun.playbook_id == playbook.id, PlaybookRun.run_on == day
        )
    )
    if row is None:
        row = PlaybookRun(
            playbook_id=playbook.id, run_on=day, matched=0, tasks=0, messages=0, error=""
        )
        session.add(row)
    row.ran_at = clock.now()
    row.complete = day < clock.today()
    row.matched = max(row.matched or 0, matched)
    row.tasks = (row.tasks or 0) + tasks
    row.messages = (row.messages or 0) + messages
    session.flush()


def _act(
    session: Session, playbook: Playbook, day: date, hits: list[Hit]
) -> tuple[int, int, dict[str, int]]:
    """Queue the e-mails and create the tasks for one playbook-day, in bulk."""
    if not hits:
        return 0, 0, {}
    from keepwell.outreach.mail import Outbox

    customers: dict[int, Customer] = {}
    wanted = sorted({h.customer_id for h in hits})
    for part in range(0, len(wanted), 5000):
        chunk = wanted[part : part + 5000]
        customers.update(
            (c.id, c) for c in session.scalars(sa.select(Customer).where(Customer.id.in_(chunk)))
        )
    hits = [h for h in hits if h.customer_id in customers]
    params = playbook.action_params or {}
    messages = 0
    held: dict[str, int] = {}
    to_task: list[tuple[Hit, dict[str, Any], str]] = []
    if playbook.action == "email":
        outbox = Outbox(session, [h.customer_id for h in hits])
        members = _members(session, hits)
        for hit in hits:
            queued = outbox.queue(
                customers[hit.customer_id],
                category=params["category"],
                template=params["template"],
                dedupe_key=hit.dedupe_key or f"playbook:{playbook.name}:{hit.key}",
                extra=_values(customers[hit.customer_id], hit),
                member=members.get(hit.member_id) if hit.member_id else None,
                playbook_id=playbook.id,
            )
            if queued.queued:
                messages += 0 if queued.existing else 1
                continue
            held[queued.refused] = held.get(queued.refused, 0) + 1
            if "fallback" in params:
                to_task.append((hit, params["fallback"], f" (not e-mailed: {queued.refused})"))
        outbox.flush()
    else:
        to_task = [(hit, params, "") for hit in hits]
    tasks = _create_tasks(session, playbook, day, customers, to_task)
    return tasks, messages, held


def _members(session: Session, hits: list[Hit]) -> dict[int, TeamMember]:
    ids = {h.member_id for h in hits if h.member_id is not None}
    if not ids:
        return {}
    return {m.id: m for m in session.scalars(sa.select(TeamMember).where(TeamMember.id.in_(ids)))}


def _create_tasks(
    session: Session,
    playbook: Playbook,
    day: date,
    customers: dict[int, Customer],
    to_task: list[tuple[Hit, dict[str, Any], str]],
) -> int:
    """The tasks, in one flush: those whose (customer, dedupe key) exists are left out.
    How many were made.

    A concurrent creator that wins a race makes the flush fail: then each goes through
    create_task, which returns the winner's task (not counted).
    """
    from keepwell.tasks.models import Task

    keyed = {(h.customer_id, _task_key(playbook, h)): (h, p, note) for h, p, note in to_task}
    existing = _existing_tasks(session, Task, list(keyed))
    fresh = {k: v for k, v in keyed.items() if k not in existing}
    if not fresh:
        return 0
    conversations = [
        customers[c] for (c, _), (_, p, _) in fresh.items() if p.get("context") == "conversations"
    ]
    contexts = _contexts(session, conversations)
    plain = contexts_for(session, [customers[c] for c, _ in fresh])
    now = clock.now()
    rows: list[tuple[Customer, dict[str, Any]]] = []
    for (customer_id, key), (hit, params, note) in fresh.items():
        customer = customers[customer_id]
        rows.append(
            (
                customer,
                {
                    "kind": str(params["kind"])[:40],
                    "due_on": day + timedelta(days=int(params.get("due_in_days", 0))),
                    "reason": (_fill(params["reason"], _values(customer, hit)) + note)[:1000],
                    "context": contexts.get(customer_id) or plain.get(customer_id, ""),
                    "member_id": hit.member_id if hit.member_id is not None else customer.owner_id,
                    "source": f"playbook:{playbook.name}"[:100],
                    "dedupe_key": key,
                    "case_id": hit.case_id,
                },
            )
        )
    try:
        with session.begin_nested():
            session.add_all(
                Task(customer_id=c.id, status="open", created_at=now, outcome="", **fields)
                for c, fields in rows
            )
            session.flush()
    except sa.exc.IntegrityError:
        # another creator won a race: its tasks are there now, returned by create_task
        # and not counted as this run's
        won = _existing_tasks(session, Task, [(c.id, f["dedupe_key"]) for c, f in rows])
        for customer, fields in rows:
            create_task(
                session,
                customer,
                kind=fields["kind"],
                due_on=fields["due_on"],
                reason=fields["reason"],
                context=fields["context"],
                source=fields["source"],
                dedupe_key=fields["dedupe_key"],
                case_id=fields["case_id"],
                member=session.get(TeamMember, fields["member_id"])
                if fields["member_id"]
                else None,
            )
        return len(rows) - len(won)
    return len(rows)


def _task_key(playbook: Playbook, hit: Hit) -> str:
    return dedupe_key_for(hit.dedupe_key or f"playbook:{playbook.name}:{hit.key}")


def _existing_tasks(
    session: Session, task: Any, wanted: list[tuple[int, str]]
) -> set[tuple[int, str]]:
    found: set[tuple[int, str]] = set()
    for part in range(0, len(wanted), 2000):
        chunk = wanted[part : part + 2000]
        rows = session.execute(
            sa.select(task.customer_id, task.dedupe_key).where(
                task.customer_id.in_({c for c, _ in chunk}),
                task.dedupe_key.in_({k for _, k in chunk}),
            )
        )
        found.update((int(c), str(k)) for c, k in rows)
    return found


def _contexts(session: Session, customers: list[Customer]) -> dict[int, str]:
    """The personal context, with the last three conversations (for handwritten notes)."""
    if not customers:
        return {}
    base = contexts_for(session, customers, limit=1000)
    ids = [c.id for c in customers]
    rank = (
        sa.func.row_number()
        .over(partition_by=Touch.customer_id, order_by=(Touch.happened_at.desc(), Touch.id.desc()))
        .label("rank")
    )
    inner = (
        sa.select(Touch.customer_id, Touch.happened_at, Touch.summary, rank)
        .where(Touch.customer_id.in_(ids), Touch.summary != "")
        .subquery()
    )
    talks: dict[int, list[str]] = {}
    for row in session.execute(sa.select(inner).where(inner.c.rank <= 3).order_by(inner.c.rank)):
        talks.setdefault(row.customer_id, []).append(
            f"{row.happened_at.date().isoformat()}: {row.summary[:140]}"
        )
    return {
        cid: (
            base.get(cid, "")
            + (" Past conversations: " + "; ".join(talks[cid]) + "." if cid in talks else "")
        )[:2000]
        for cid in ids
    }


class _Values(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def _values(customer: Customer, hit: Hit) -> dict[str, str]:
    name = customer.name.strip() or f"customer #{customer.id}"
    return {"name": name, "first_name": name.split()[0], **hit.values}


def _fill(template: str, values: dict[str, str]) -> str:
    try:
        return template.format_map(_Values(values))
    except (ValueError, IndexError, AttributeError):  # a stray brace in an admin's text
        return template


def last_job(session: Session) -> JobRun | None:
    return session.scalar(
        sa.select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(1)
    )


def last_successful_job(session: Session) -> JobRun | None:
    return session.scalar(
        sa.select(JobRun)
        .where(JobRun.finished_at.is_not(None), JobRun.days >= 0, JobRun.errors == 0)
        .order_by(JobRun.started_at.desc(), JobRun.id.desc())
        .limit(1)
    )
