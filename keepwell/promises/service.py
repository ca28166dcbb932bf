"""Promises made to customers: make, update (and slip), keep, break, cancel; the kept rate.

A promise is open until it is kept, broken or cancelled. Kept on time means completed
by the due date *in force* when it was kept; each move of the due date to a later time
is a slip, counted on the promise (`slips`), recorded as a PromiseUpdate, and reported
beside the kept rate, so a rate earned by moving dates shows as such (docs/promises.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.accounts.models import TeamMember
from keepwell.accounts.service import member_or_none
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
from keepwell.promises.models import STATUSES, Promise, PromiseUpdate
from keepwell.touches.service import MAX_SUMMARY, log_touch

MAX_WHAT = 2000
MAX_LIMIT = 500
# How far ahead of the clock a recorded moment may be (clocks of machines disagree).
FUTURE_SLACK = timedelta(days=1)
KEPT = ("kept", "kept_late")


def get_promise(session: Session, promise_id: int) -> Promise:
    return get_or_raise(session, Promise, promise_id, "promise")


def make_promise(
    session: Session,
    customer: Customer,
    *,
    what: str,
    due_at: datetime,
    member: TeamMember | None = None,
    made_at: datetime | None = None,
) -> Promise:
    """Record that `member` (default: the customer's owner) promised `what` by `due_at`."""
    what = check_text("what", what, MAX_WHAT, required="say what was promised")
    now = clock.now()
    made = made_at if made_at is not None else now
    require_aware("made_at", made)
    require_aware("due_at", due_at)
    if made > now + FUTURE_SLACK:
        raise InvalidInput("made_at", "a promise cannot be made in the future")
    if due_at < made:
        raise InvalidInput(
            "due_at", f"due {_show(due_at)} is before the promise was made ({_show(made)})"
        )
    promise = Promise(
        customer_id=customer.id,
        member_id=member.id if member is not None else customer.owner_id,
        what=what,
        made_at=made,
        due_at=due_at,
        original_due_at=due_at,
        status="open",
        outcome="",
        slips=0,
    )
    session.add(promise)
    flush_or_conflict(session, "promise")
    return promise


def progress_update(
    session: Session,
    promise: Promise,
    *,
    note: str,
    new_due_at: datetime | None = None,
    channel: str = "email",
    member: TeamMember | None = None,
) -> PromiseUpdate:
    """Tell the customer how the open promise stands ("still no answer, I will check back
    by Friday"): logged as an outbound touch, which moves their next check-in.

    A `new_due_at` later than the due date in force is a slip: the due date moves, the
    promise's `slips` goes up by one and the update records the old and the new date. An
    earlier date moves the due date and is recorded too, but is not a slip.
    """
    _require_open(promise, "update")
    note = check_text("note", note, MAX_SUMMARY, required="say what the customer was told")
    now = clock.now()
    old_due = promise.due_at
    moved = False
    if new_due_at is not None:
        require_aware("new_due_at", new_due_at)
        if new_due_at < now:
            raise InvalidInput("new_due_at", f"{_show(new_due_at)} has passed already")
        moved = new_due_at != old_due
    customer = _customer(session, promise)
    summary = note
    if moved:
        assert new_due_at is not None
        summary = moved_summary(note, new_due_at, old_due)
    touch = log_touch(
        session,
        customer,
        channel=channel,
        summary=summary,
        member=member if member is not None else member_or_none(session, promise.member_id),
        direction="outbound",
        happened_at=now,
        promise_id=promise.id,
    )
    update = PromiseUpdate(
        promise_id=promise.id,
        at=now,
        note=note,
        old_due_at=old_due,
        new_due_at=new_due_at if moved else None,
        touch_id=touch.id,
    )
    session.add(update)
    if moved:
        assert new_due_at is not None
        if new_due_at > old_due:
            promise.slips += 1
        promise.due_at = new_due_at
    flush_or_conflict(session, "promise")
    return update


def moved_summary(note: str, new_due: datetime, old_due: datetime) -> str:
    """The logged touch's text for an update that moved the due date: the note, then the
    move. The move always shows; a note too long to leave room for it (a touch holds
    MAX_SUMMARY characters, as many as a note) is cut short with an ellipsis in the touch
    only, and the update keeps the whole note."""
    suffix = f" (promise now due {_show(new_due)}, was {_show(old_due)})"
    if len(note) + len(suffix) > MAX_SUMMARY:
        note = note[: MAX_SUMMARY - len(suffix) - 1] + "…"
    return note + suffix


def complete_promise(
    session: Session, promise: Promise, *, outcome: str = "", at: datetime | None = None
) -> Promise:
    """The promise was kept at `at` (default now): `kept` if by the due date in force,
    else `kept_late`."""
    _require_open(promise, "keep")
    outcome = _outcome(outcome)
    now = clock.now()
    when = at if at is not None else now
    require_aware("at", when)
    if when > now + FUTURE_SLACK:
        raise InvalidInput("at", "a promise cannot be kept in the future")
    if when < promise.made_at:
        raise InvalidInput("at", f"{_show(when)} is before the promise was made")
    promise.status = "kept" if when <= promise.due_at else "kept_late"
    promise.completed_at = when
    promise.outcome = outcome
    flush_or_conflict(session, "promise")
    return promise


def break_promise(session: Session, promise: Promise, *, outcome: str) -> Promise:
    """The promise will not be kept; `outcome` says what happened (and what the customer
    was told)."""
    _require_open(promise, "break")
    outcome = _outcome(outcome)
    if not outcome:
        raise InvalidInput("outcome", "say what happened")
    return _close(session, promise, "broken", outcome)


def cancel_promise(session: Session, promise: Promise, *, reason: str = "") -> Promise:
    """The promise no longer applies (the customer withdrew the request, it was entered by
    mistake): it leaves the kept rate."""
    _require_open(promise, "cancel")
    return _close(session, promise, "cancelled", _outcome(reason))


def updates_of(session: Session, promise: Promise) -> list[PromiseUpdate]:
    """The promise's progress updates, oldest first."""
    return list(
        session.scalars(
            sa.select(PromiseUpdate)
            .where(PromiseUpdate.promise_id == promise.id)
            .order_by(PromiseUpdate.at, PromiseUpdate.id)
        )
    )


# --- the list ---------------------------------------------------------------------


@dataclass(frozen=True)
class PromiseFilter:
    """One definition of the promises list, for the CLI, the API and the pages.

    `due_after` and `due_before` bound the due date in force as a half-open window:
    due_after <= due_at < due_before. `overdue` keeps open promises whose due time has
    passed. Sorted by due date, soonest first.
    """

    status: str | None = None
    member_id: int | None = None
    customer_id: int | None = None
    due_before: datetime | None = None
    due_after: datetime | None = None
    overdue: bool = False
    offset: int = 0  # rows skipped (pagination), at most MAX_OFFSET
    limit: int = 50

    def __post_init__(self) -> None:
        check_choice("status", self.status, STATUSES)
        check_limit(self.limit, MAX_LIMIT)
        check_offset(self.offset)
        for name in ("due_before", "due_after"):
            moment = getattr(self, name)
            if moment is not None:
                require_aware(name, moment)

    def query(self) -> sa.Select[Promise]:
        q = sa.select(Promise)
        if self.status is not None:
            q = q.where(Promise.status == self.status)
        if self.member_id is not None:
            q = q.where(Promise.member_id == self.member_id)
        if self.customer_id is not None:
            q = q.where(Promise.customer_id == self.customer_id)
        if self.due_before is not None:
            q = q.where(Promise.due_at < self.due_before)
        if self.due_after is not None:
            q = q.where(Promise.due_at >= self.due_after)
        if self.overdue:
            q = q.where(Promise.status == "open", Promise.due_at < clock.now())
        return q.order_by(Promise.due_at, Promise.id).offset(self.offset).limit(self.limit)


def list_promises(session: Session, filters: PromiseFilter) -> list[Promise]:
    return list(session.scalars(filters.query()))


# --- the kept rate ----------------------------------------------------------------


@dataclass(frozen=True)
class KeptRate:
    """How the promises due in [start, end) went (cancelled ones left out).

    `due` = kept_on_time + kept_late + broken + still_open. `rate` = kept_on_time / due
    (None when nothing was due). Kept on time is judged by the due date in force; the
    slips are counted beside it: `slipped` promises moved at least once, `slips` moves in
    all, and `kept_by_original_due` of them were kept by the date first promised.
    """

    start: datetime
    end: datetime
    due: int
    kept_on_time: int
    kept_late: int
    broken: int
    still_open: int
    slipped: int
    slips: int
    kept_by_original_due: int
    rate: float | None


@dataclass(frozen=True)
class MemberKeptRate:
    """One member's kept rate (member_id None: promises nobody is responsible for)."""

    member_id: int | None
    email: str
    name: str
    kept: KeptRate


def kept_rate(
    session: Session, *, start: datetime, end: datetime, member_id: int | None = None
) -> KeptRate:
    """The kept rate of the promises due in [start, end), the team's or one member's."""
    rows = _rate_rows(session, start, end, member_id=member_id, by_member=False)
    return rows.get(None) or _rate(start, end, (0,) * 8)


def kept_rate_by_member(session: Session, start: datetime, end: datetime) -> list[MemberKeptRate]:
    """Each member's kept rate for promises due in [start, end), by name."""
    rows = _rate_rows(session, start, end, member_id=None, by_member=True)
    ids = [i for i in rows if i is not None]
    members = {
        m.id: m for m in session.scalars(sa.select(TeamMember).where(TeamMember.id.in_(ids)))
    }
    result = [
        MemberKeptRate(
            member_id,
            members[member_id].email if member_id is not None else "",
            members[member_id].name if member_id is not None else "",
            rate,
        )
        for member_id, rate in rows.items()
    ]
    result.sort(key=lambda r: (r.member_id is None, r.name or r.email, r.member_id or 0))
    return result


def _rate_rows(
    session: Session, start: datetime, end: datetime, *, member_id: int | None, by_member: bool
) -> dict[int | None, KeptRate]:
    require_aware("start", start)
    require_aware("end", end)
    if end <= start:
        raise InvalidInput("end", "the end of the period must come after its start")

    def count(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    columns = [
        sa.func.count(),
        count(Promise.status == "kept"),
        count(Promise.status == "kept_late"),
        count(Promise.status == "broken"),
        count(Promise.status == "open"),
        count(Promise.slips > 0),
        sa.func.coalesce(sa.func.sum(Promise.slips), 0),
        count(sa.and_(Promise.status.in_(KEPT), Promise.completed_at <= Promise.original_due_at)),
    ]
    window = (Promise.due_at >= start, Promise.due_at < end, Promise.status != "cancelled")
    if by_member:
        q = sa.select(Promise.member_id, *columns).where(*window).group_by(Promise.member_id)
    else:
        q = sa.select(sa.null(), *columns).where(*window)
    if member_id is not None:
        q = q.where(Promise.member_id == member_id)
    result: dict[int | None, KeptRate] = {}
    for row in session.execute(q).all():
        values = tuple(int(v) for v in row[1:])
        if values[0]:
            result[row[0]] = _rate(start, end, values)
    return result


def _rate(start: datetime, end: datetime, values: tuple[int, ...]) -> KeptRate:
    due, on_time, late, broken, still_open, slipped, slips, by_original = values
    return KeptRate(
        start=start,
        end=end,
        due=due,
        kept_on_time=on_time,
        kept_late=late,
        broken=broken,
        still_open=still_open,
        slipped=slipped,
        slips=slips,
        kept_by_original_due=by_original,
        rate=on_time / due if due else None,
    )


# --- helpers ----------------------------------------------------------------------


def _close(session: Session, promise: Promise, status: str, outcome: str) -> Promise:
    promise.status = status
    promise.completed_at = clock.now()
    promise.outcome = outcome
    flush_or_conflict(session, "promise")
    return promise


def _outcome(text: str) -> str:
    return check_text("outcome", text, MAX_SUMMARY)


def _require_open(promise: Promise, action: str) -> None:
    if promise.status != "open":
        raise InvalidInput(
            "status", f"cannot {action} promise #{promise.id}: it is {promise.status}"
        )


def _customer(session: Session, promise: Promise) -> Customer:
    return get_or_raise(session, Customer, promise.customer_id, "customer")


def _show(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
