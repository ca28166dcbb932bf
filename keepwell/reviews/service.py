"""Account reviews: a periodic walk through a key account's checklist with its owner.

Who is a key account, and how often they are reviewed, are desk settings
(`reviews.key_segments`, default ["vip"]; `reviews.min_revenue_minor`, default none;
`reviews.interval_days`, default 90). `schedule_reviews` (run by `keepwell review
schedule` and the daily upkeep of `keepwell serve`) gives every key account one due review; doing a
review schedules the next one an interval later. A due review is on its owner's agenda.

The checklist: the built-in questions (last check-in, on time every time, the agreed
goals, whether what we provided worked), each with a hint from the records, then the
admin's own questions (`review_questions`, active ones, in their order). Every answer is
yes, no or partly with a note, kept with when and by whom.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.accounts.models import TeamMember
from keepwell.cases.models import Case
from keepwell.customers import derived
from keepwell.customers.models import Customer
from keepwell.db import UTCDateTime, flush_or_conflict, get_or_raise, table_of
from keepwell.errors import InvalidInput, check_choice, check_limit, check_text
from keepwell.promises.models import Promise
from keepwell.reviews.goals import goals_of
from keepwell.reviews.models import (
    ANSWERS,
    REVIEW_STATUSES,
    AccountReview,
    Goal,
    ReviewAnswer,
)
from keepwell.reviews.setup import MAX_QUESTION, list_questions, review_config

MAX_NOTE = 20_000
MAX_LIMIT = 500
BUILTIN: tuple[tuple[str, str], ...] = (
    ("last_check_in", "When did we last check in? Often enough?"),
    ("on_time", "Have we delivered on time, every time?"),
    ("goals", "Are we meeting the goals we agreed?"),
    ("worked", "Has what we provided actually worked for them?"),
)
BUILTIN_TEXT = dict(BUILTIN)
REVIEW_FIELDS = (
    "id", "customer_id", "member_id", "kind", "due_on", "status", "completed_at",
    "completed_by_id", "note", "answered", "yes", "partly", "goals_met", "goals_total", "version",
)  # fmt: skip


# --- scheduling ---------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleRun:
    scheduled: int  # key accounts that had no review and now have one due
    reassigned: int  # due reviews moved to the customer's current owner
    cancelled: int  # periodic reviews of customers who are no longer key accounts


def schedule_reviews(conn: Connection, day: date) -> ScheduleRun:
    """Give every key account a due review (due `day`) unless one is open; hand open
    reviews to the customer's current owner; cancel periodic ones no longer wanted.
    Three statements, whatever the size of the desk."""
    with Session(bind=conn) as session:
        config = review_config(session)
    c, r = table_of(Customer), table_of(AccountReview)
    key = config.key_account()
    columns = (
        "customer_id", "member_id", "kind", "due_on", "status", "open_customer_id", "note",
        "answered", "yes", "partly", "goals_met", "goals_total", "created_at", "version",
    )  # fmt: skip
    zero = sa.literal(0)
    source = sa.select(
        c.c.id, c.c.owner_id, sa.literal("periodic"), sa.literal(day, sa.Date), sa.literal("due"),
        c.c.id, sa.literal(""), zero, zero, zero, zero, zero,
        sa.literal(clock.now(), UTCDateTime()), sa.literal(1),
    ).where(key, ~sa.exists().where(r.c.open_customer_id == c.c.id))  # fmt: skip
    inserted = conn.execute(sa.insert(r).from_select(columns, source).returning(r.c.id))
    scheduled = len(inserted.all())
    reassigned = (
        conn.execute(
            sa.update(r)
            .where(
                r.c.status == "due",
                r.c.customer_id == c.c.id,
                r.c.member_id.is_distinct_from(c.c.owner_id),
            )
            .values(member_id=c.c.owner_id, version=r.c.version + 1)
        ).rowcount
        or 0
    )
    cancelled = (
        conn.execute(
            sa.update(r)
            .where(
                r.c.status == "due",
                r.c.kind == "periodic",
                ~sa.exists().where(c.c.id == r.c.customer_id, key),
            )
            .values(status="cancelled", open_customer_id=None, version=r.c.version + 1)
        ).rowcount
        or 0
    )
    return ScheduleRun(scheduled, reassigned, cancelled)


# --- one review ---------------------------------------------------------------------


def get_review(session: Session, review_id: int) -> AccountReview:
    return get_or_raise(session, AccountReview, review_id, "account review")


def open_review(session: Session, customer_id: int) -> AccountReview | None:
    return session.scalar(
        sa.select(AccountReview).where(AccountReview.open_customer_id == customer_id)
    )


def start_review(
    session: Session,
    customer: Customer,
    *,
    member: TeamMember | None = None,
    due_on: date | None = None,
) -> AccountReview:
    """A review of any customer, on demand (due today unless said), for `member` (default
    the owner). A customer has one open review at a time."""
    today = clock.today()
    due = due_on if due_on is not None else today
    if not today - timedelta(days=3660) <= due <= today + timedelta(days=3660):
        raise InvalidInput("due_on", f"{due} is more than ten years away")
    existing = open_review(session, customer.id)
    if existing is not None:
        raise InvalidInput(
            "customer", f"customer #{customer.id} has review #{existing.id} open already"
        )
    review = _new_review(customer, due, "on_demand", member.id if member else customer.owner_id)
    session.add(review)
    flush_or_conflict(session, "account review")
    return review


@dataclass(frozen=True)
class ChecklistItem:
    question: str  # a built-in key or "q:ID"
    text: str
    hint: str  # what the records say
    suggested: str | None  # the answer the records suggest (yes, no, partly), if any
    answer: str | None
    note: str
    answered_at: datetime | None
    answered_by_id: int | None


@dataclass
class Checklist:
    review: AccountReview
    customer: str
    items: list[ChecklistItem]
    goals: list[Goal] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        r = self.review
        return {
            "review": {name: getattr(r, name) for name in REVIEW_FIELDS},
            "customer": self.customer,
            "items": [asdict(item) for item in self.items],
            "goals": [
                {
                    "id": g.id,
                    "what": g.what,
                    "target_on": g.target_on,
                    "status": g.status,
                    "closed_on": g.closed_on,
                    "notes": g.notes,
                }
                for g in self.goals
            ],
        }


def checklist(session: Session, review: AccountReview) -> Checklist:
    """The review's questions with hints from the records and the answers given so far.

    A done or cancelled review shows the answers as they were given."""
    customer = _customer(session, review.customer_id)
    answers = {a.question: a for a in _answers(session, review.id)}
    goals = goals_of(session, review.customer_id)
    if review.status != "due":
        items = [_item(a.question, a.question_text, "", None, a) for a in answers.values()]
        return Checklist(review, customer.name, items, goals)
    hints = _Hints(session, review, customer, goals)
    items = []
    for key, text in _questions(session):
        hint, suggested = hints.for_question(key)
        items.append(_item(key, text, hint, suggested, answers.get(key)))
    return Checklist(review, customer.name, items, goals)


@dataclass(frozen=True)
class AnswerIn:
    question: str
    answer: str
    note: str = ""


def answer_review(
    session: Session,
    review: AccountReview,
    answers: Sequence[AnswerIn],
    *,
    member: TeamMember | None,
) -> list[ReviewAnswer]:
    """Record answers (a question answered again takes the new answer). All are checked
    before any is written."""
    _require_due(review, "answer")
    if not answers:
        raise InvalidInput("answers", "give at least one answer")
    questions = dict(_questions(session))
    seen: set[str] = set()
    for n, given in enumerate(answers):
        where = f"answers[{n}]"
        if given.question not in questions:
            raise InvalidInput(
                f"{where}.question",
                f"{given.question!r} is not on this checklist; use one of " + ", ".join(questions),
            )
        if given.question in seen:
            raise InvalidInput(f"{where}.question", f"{given.question!r} is answered twice")
        seen.add(given.question)
        check_choice(f"{where}.answer", given.answer, ANSWERS)
        check_text(f"{where}.note", given.note, MAX_NOTE)
    stored = {a.question: a for a in _answers(session, review.id)}
    now = clock.now()
    written = []
    for given in answers:
        row = stored.get(given.question)
        if row is None:
            row = ReviewAnswer(review_id=review.id, customer_id=review.customer_id)
            session.add(row)
        row.question = given.question
        row.question_text = questions[given.question][:MAX_QUESTION]
        row.answer = given.answer
        row.note = given.note.strip()
        row.answered_at = now
        row.answered_by_id = member.id if member is not None else None
        written.append(row)
    flush_or_conflict(session, "account review")
    return written


def complete_review(
    session: Session,
    review: AccountReview,
    *,
    member: TeamMember | None,
    note: str = "",
    answers: Sequence[AnswerIn] = (),
) -> tuple[AccountReview, AccountReview | None]:
    """Finish the review (every checklist question must have an answer); a key account's
    next review is scheduled an interval later. Returns (this review, the next one)."""
    _require_due(review, "complete")
    note = check_text("note", note, MAX_NOTE)
    if answers:
        answer_review(session, review, answers, member=member)
    given = {a.question: a for a in _answers(session, review.id)}
    missing = [key for key, _ in _questions(session) if key not in given]
    if missing:
        raise InvalidInput("answers", "not answered yet: " + ", ".join(missing))
    goals = [g for g in goals_of(session, review.customer_id) if g.status != "dropped"]
    now = clock.now()
    review.status = "done"
    review.open_customer_id = None
    review.completed_at = now
    review.completed_by_id = member.id if member is not None else None
    review.note = note.strip()
    review.answered = len(given)
    review.yes = sum(1 for a in given.values() if a.answer == "yes")
    review.partly = sum(1 for a in given.values() if a.answer == "partly")
    review.goals_total = len(goals)
    review.goals_met = sum(1 for g in goals if g.status == "met")
    flush_or_conflict(session, "account review")
    customer = _customer(session, review.customer_id)
    config = review_config(session)
    key = session.scalar(
        sa.select(sa.literal(True)).where(
            table_of(Customer).c.id == customer.id, config.key_account()
        )
    )
    following = None
    if key:
        due = now.date() + timedelta(days=config.interval_days)
        following = _new_review(customer, due, "periodic", customer.owner_id)
        session.add(following)
        flush_or_conflict(session, "account review")
    return review, following


def cancel_review(session: Session, review: AccountReview, *, note: str = "") -> AccountReview:
    """Drop a due review (a periodic one comes back at the next scheduling if the
    customer is still a key account)."""
    _require_due(review, "cancel")
    note = check_text("note", note, MAX_NOTE)
    review.status = "cancelled"
    review.open_customer_id = None
    review.note = note
    flush_or_conflict(session, "account review")
    return review


# --- lists --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewFilter:
    """One definition of the reviews list (CLI and API): soonest due first. `due_by`
    keeps reviews due on or before that day."""

    status: str | None = None
    member_id: int | None = None
    customer_id: int | None = None
    due_by: date | None = None
    limit: int = 50

    def __post_init__(self) -> None:
        check_choice("status", self.status, REVIEW_STATUSES)
        check_limit(self.limit, MAX_LIMIT)

    def query(self) -> sa.Select[Any]:
        q = sa.select(AccountReview)
        if self.status is not None:
            q = q.where(AccountReview.status == self.status)
        if self.member_id is not None:
            q = q.where(AccountReview.member_id == self.member_id)
        if self.customer_id is not None:
            q = q.where(AccountReview.customer_id == self.customer_id)
        if self.due_by is not None:
            q = q.where(AccountReview.due_on <= self.due_by)
        return q.order_by(AccountReview.due_on, AccountReview.id).limit(self.limit)


def list_reviews(session: Session, filters: ReviewFilter) -> list[AccountReview]:
    return list(session.scalars(filters.query()))


def due_for(
    session: Session, member_id: int, day: date, limit: int
) -> tuple[list[tuple[AccountReview, Customer]], int]:
    """The member's reviews due by `day` (oldest first, at most `limit`) and how many
    there are: the agenda's part, on the index (member_id, status, due_on)."""
    where = (
        AccountReview.member_id == member_id,
        AccountReview.status == "due",
        AccountReview.due_on <= day,
    )
    total = session.scalar(sa.select(sa.func.count()).select_from(AccountReview).where(*where))
    rows = session.execute(
        sa.select(AccountReview, Customer)
        .join(Customer, Customer.id == AccountReview.customer_id)
        .where(*where)
        .order_by(AccountReview.due_on, AccountReview.id)
        .limit(limit)
    ).all()
    return [(review, customer) for review, customer in rows], int(total or 0)


# --- for the health score -----------------------------------------------------------


@dataclass(frozen=True)
class ReviewSummary:
    """A customer's latest done review: when, the share of its checklist answered yes
    (partly counts as no), and the agreed goals met out of those not dropped."""

    review_id: int
    reviewed_on: date
    answered: int
    yes: int
    partly: int
    yes_share: float | None
    goals_met: int
    goals_total: int


def latest_review(session: Session, customer_ids: Sequence[int]) -> dict[int, ReviewSummary]:
    """The latest done review of each of these customers that has one."""
    found: dict[int, ReviewSummary] = {}
    ids = sorted(set(customer_ids))
    for start in range(0, len(ids), 5000):
        part = ids[start : start + 5000]
        rows = session.execute(
            sa.select(AccountReview)
            .where(AccountReview.customer_id.in_(part), AccountReview.status == "done")
            .order_by(AccountReview.customer_id, AccountReview.completed_at, AccountReview.id)
        ).scalars()
        for r in rows:  # the latest wins
            assert r.completed_at is not None
            found[r.customer_id] = ReviewSummary(
                review_id=r.id,
                reviewed_on=r.completed_at.date(),
                answered=r.answered,
                yes=r.yes,
                partly=r.partly,
                yes_share=r.yes / r.answered if r.answered else None,
                goals_met=r.goals_met,
                goals_total=r.goals_total,
            )
    return found


# --- helpers ------------------------------------------------------------------------


def _new_review(customer: Customer, due: date, kind: str, member_id: int | None) -> AccountReview:
    return AccountReview(
        customer_id=customer.id, member_id=member_id, kind=kind, due_on=due, status="due",
        open_customer_id=customer.id, note="", answered=0, yes=0, partly=0, goals_met=0,
        goals_total=0,
    )  # fmt: skip


def _questions(session: Session) -> list[tuple[str, str]]:
    custom = [(f"q:{q.id}", q.text) for q in list_questions(session, include_inactive=False)]
    return [*BUILTIN, *custom]


def _answers(session: Session, review_id: int) -> list[ReviewAnswer]:
    return list(
        session.scalars(
            sa.select(ReviewAnswer)
            .where(ReviewAnswer.review_id == review_id)
            .order_by(ReviewAnswer.id)
        )
    )


def _item(
    key: str, text: str, hint: str, suggested: str | None, answer: ReviewAnswer | None
) -> ChecklistItem:
    return ChecklistItem(
        question=key,
        text=text,
        hint=hint,
        suggested=suggested,
        answer=answer.answer if answer else None,
        note=answer.note if answer else "",
        answered_at=answer.answered_at if answer else None,
        answered_by_id=answer.answered_by_id if answer else None,
    )


def _require_due(review: AccountReview, action: str) -> None:
    if review.status != "due":
        raise InvalidInput("status", f"cannot {action} review #{review.id}: it is {review.status}")


def _customer(session: Session, customer_id: int) -> Customer:
    return get_or_raise(session, Customer, customer_id, "customer")


class _Hints:
    """What the records say about each built-in question, and the answer they suggest."""

    def __init__(
        self, session: Session, review: AccountReview, customer: Customer, goals: list[Goal]
    ) -> None:
        self.session = session
        self.review = review
        self.customer = customer
        self.goals = goals
        self.today = clock.today()

    def for_question(self, key: str) -> tuple[str, str | None]:
        if key == "last_check_in":
            return self.last_check_in()
        if key == "on_time":
            return self.on_time()
        if key == "goals":
            return self.goals_hint()
        if key == "worked":
            return "Ask them: the records cannot tell.", None
        return "", None

    def last_check_in(self) -> tuple[str, str | None]:
        cadence = derived.cadence_days(self.session.connection(), self.customer)
        last = self.customer.last_contact_at
        if last is None:
            return f"No contact recorded (check-ins every {cadence} days).", "no"
        days = (self.today - last.date()).days
        hint = f"Last contact {last:%Y-%m-%d}, {days} days ago (check-ins every {cadence} days)."
        return hint, "yes" if days <= cadence else "partly" if days <= 2 * cadence else "no"

    def since(self) -> datetime:
        previous = self.session.scalar(
            sa.select(sa.func.max(AccountReview.completed_at)).where(
                AccountReview.customer_id == self.customer.id, AccountReview.status == "done"
            )
        )
        if previous is not None:
            return previous if previous.tzinfo else previous.replace(tzinfo=UTC)
        interval = review_config(self.session).interval_days
        return datetime.combine(self.review.due_on - timedelta(days=interval), time(), UTC)

    def on_time(self) -> tuple[str, str | None]:
        since, now = self.since(), clock.now()

        def count(*condition: Any) -> int:
            return int(
                self.session.scalar(
                    sa.select(sa.func.count()).where(
                        Promise.customer_id == self.customer.id,
                        Promise.due_at >= since,
                        Promise.due_at < now,
                        *condition,
                    )
                )
                or 0
            )

        due = count(Promise.status != "cancelled")
        kept = count(Promise.status == "kept")
        late = count(Promise.status == "kept_late")
        broken = count(Promise.status == "broken")
        overdue = count(Promise.status == "open")
        cases = int(
            self.session.scalar(
                sa.select(sa.func.count()).where(
                    Case.customer_id == self.customer.id, Case.opened_at >= since
                )
            )
            or 0
        )
        parts = [f"Since {since:%Y-%m-%d}:"]
        if due:
            parts.append(
                f"{kept} of {due} promises kept on time ({late} late, {broken} broken, "
                f"{overdue} still open past due);"
            )
        else:
            parts.append("no promise fell due;")
        parts.append(f"{cases} case{'s' if cases != 1 else ''} opened.")
        if not due and not cases:
            return " ".join(parts), None
        if kept == due and not cases:
            suggested = "yes"
        elif due and kept / due >= 0.75:
            suggested = "partly"
        else:
            suggested = "no" if due else "partly"
        return " ".join(parts), suggested

    def goals_hint(self) -> tuple[str, str | None]:
        live = [g for g in self.goals if g.status != "dropped"]
        if not live:
            return "No goals agreed yet: agree some with them.", None
        met = sum(1 for g in live if g.status == "met")
        missed = sum(1 for g in live if g.status == "missed")
        late = [g for g in live if g.status == "open" and g.target_on and g.target_on < self.today]
        still = sum(1 for g in live if g.status == "open")
        hint = f"{len(live)} goals: {met} met, {missed} missed, {still} open"
        hint += f" ({len(late)} past their target date)." if late else "."
        if not missed and not late:
            return hint, "yes"
        return hint, "no" if missed + len(late) > met else "partly"
