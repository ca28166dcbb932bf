"""Today's agenda, computed from the records when asked (no job has to run for it to be right).

Order: overdue promises, promises due today, cases waiting for a first response or a
confirmation, due tasks, customers gone quiet (longest silence, then highest value),
upcoming special dates. Every item carries why it is there and what to mention.
Each part is one indexed query for the member, so it stays fast on a large desk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from keepwell.accounts.models import TeamMember
from keepwell.cases.models import Case
from keepwell.customers import derived
from keepwell.customers.context import contexts_for
from keepwell.customers.models import Customer
from keepwell.promises.models import Promise
from keepwell.tasks.models import Task

GROUPS = (
    "promise_overdue",
    "promise_due",
    "case",
    "task",
    "review",
    "quiet",
    "special_date",
)
QUIET_SHOWN = 25
DATES_AHEAD = 7
DATES_SHOWN = 20
REVIEWS_SHOWN = 10


@dataclass(frozen=True)
class AgendaItem:
    group: str  # one of GROUPS, in this order on the agenda
    ref: str  # what the item is about: "promise:12", "case:3", "task:9", "customer:44"
    customer_id: int
    customer: str
    owner_id: int | None
    title: str  # what to do
    reason: str  # why now, in one sentence
    context: str  # what to mention to be personal
    due: str | None  # ISO date or time the item is due (or the special date)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Agenda:
    day: date
    member_id: int | None
    member: str
    items: list[AgendaItem] = field(default_factory=list)
    more_quiet: int = 0  # quiet customers beyond those shown
    more_dates: int = 0  # special dates beyond those shown
    more_dates_capped: bool = False  # there are more than more_dates (the look-up is bounded)
    more_reviews: int = 0  # account reviews due beyond those shown

    def counts(self) -> dict[str, int]:
        return {g: sum(1 for item in self.items if item.group == g) for g in GROUPS}

    def to_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "member_id": self.member_id,
            "member": self.member,
            "counts": self.counts(),
            "more_quiet": self.more_quiet,
            "more_dates": self.more_dates,
            "more_dates_capped": self.more_dates_capped,
            "more_reviews": self.more_reviews,
            "items": [item.to_dict() for item in self.items],
        }


def agenda_for(
    session: Session,
    member: TeamMember,
    day: date,
    *,
    quiet_shown: int = QUIET_SHOWN,
    dates_ahead: int = DATES_AHEAD,
    dates_shown: int = DATES_SHOWN,
) -> Agenda:
    """One member's agenda for `day`."""
    agenda = Agenda(day=day, member_id=member.id, member=member.name or member.email)
    start = datetime.combine(day, time(), UTC)
    end = start + timedelta(days=1)
    builder = _Builder(session, day)
    agenda.items += builder.promises(member.id, start, end)
    agenda.items += builder.cases(member.id, start, end)
    agenda.items += builder.tasks(member.id)
    reviews, agenda.more_reviews = builder.reviews(member.id, REVIEWS_SHOWN)
    agenda.items += reviews
    quiet, more = builder.quiet(member.id, start, quiet_shown)
    agenda.items += quiet
    agenda.more_quiet = more
    dates, agenda.more_dates, agenda.more_dates_capped = builder.special_dates(
        member.id, dates_ahead, dates_shown
    )
    agenda.items += dates
    agenda.items = builder.with_contexts(agenda.items)
    return agenda


def team_agenda(session: Session, day: date, **options: Any) -> list[Agenda]:
    """Every active member's agenda, in the order of their names."""
    members = session.scalars(
        sa.select(TeamMember).where(TeamMember.active.is_(True)).order_by(TeamMember.name)
    )
    return [agenda_for(session, member, day, **options) for member in members]


class _Builder:
    """Builds the parts; personal contexts are filled in at the end, in one batch."""

    def __init__(self, session: Session, day: date) -> None:
        self.session = session
        self.day = day
        self._customers: dict[int, Customer] = {}

    def context(self, customer: Customer) -> str:
        self._customers[customer.id] = customer
        return ""  # filled by with_contexts

    def with_contexts(self, items: list[AgendaItem]) -> list[AgendaItem]:
        found = contexts_for(self.session, list(self._customers.values()))
        return [
            item if item.context else replace(item, context=found.get(item.customer_id, ""))
            for item in items
        ]

    def promises(self, member_id: int, start: datetime, end: datetime) -> list[AgendaItem]:
        rows = self.session.execute(
            sa.select(Promise, Customer)
            .join(Customer, Customer.id == Promise.customer_id)
            .where(Promise.member_id == member_id, Promise.status == "open", Promise.due_at < end)
            .order_by(Promise.due_at, Promise.id)
        ).all()
        items = []
        for promise, customer in rows:
            overdue = promise.due_at < start
            days = (start.date() - promise.due_at.date()).days
            if overdue:
                late = "1 day" if days == 1 else f"{days} days"
                reason = (
                    f"You promised {customer.name or 'the customer'} “{_short(promise.what)}” by "
                    f"{promise.due_at:%a %d %b}: {late} overdue. Keep it, or tell them when."
                )
            else:
                reason = (
                    f"You promised {customer.name or 'the customer'} “{_short(promise.what)}” "
                    f"by {promise.due_at:%H:%M} UTC today."
                )
            if promise.slips:
                reason += f" (moved {promise.slips} time{'s' if promise.slips > 1 else ''})"
            items.append(
                AgendaItem(
                    group="promise_overdue" if overdue else "promise_due",
                    ref=f"promise:{promise.id}",
                    customer_id=customer.id,
                    customer=customer.name,
                    owner_id=customer.owner_id,
                    title="Keep the promise" if not overdue else "Overdue promise",
                    reason=reason,
                    context=self.context(customer),
                    due=promise.due_at.isoformat(),
                )
            )
        return items

    def cases(self, member_id: int, start: datetime, end: datetime) -> list[AgendaItem]:
        waiting = self.session.execute(
            sa.select(Case, Customer)
            .join(Customer, Customer.id == Case.customer_id)
            .where(
                Case.member_id == member_id,
                Case.status == "open",
                Case.first_response_at.is_(None),
            )
            .order_by(Case.opened_at, Case.id)
        ).all()
        items = []
        for case, customer in waiting:
            hours = max(0, int((end - case.opened_at).total_seconds() // 3600))
            age = f"{hours} hours" if hours < 48 else f"{hours // 24} days"
            items.append(
                AgendaItem(
                    group="case",
                    ref=f"case:{case.id}",
                    customer_id=customer.id,
                    customer=customer.name,
                    owner_id=customer.owner_id,
                    title="First response to a case",
                    reason=(
                        f"{customer.name or 'A customer'} raised “{_short(case.title)}” "
                        f"({case.severity}) {age} ago and has had no answer yet."
                    ),
                    context=self.context(customer),
                    due=case.opened_at.isoformat(),
                )
            )
        confirmations = self._due_tasks(member_id, kinds=("confirm_case",))
        return items + [self._task_item(task, customer, "case") for task, customer in confirmations]

    def tasks(self, member_id: int) -> list[AgendaItem]:
        rows = self._due_tasks(member_id, exclude=("confirm_case",))
        return [self._task_item(task, customer, "task") for task, customer in rows]

    def _due_tasks(
        self,
        member_id: int,
        *,
        kinds: Sequence[str] = (),
        exclude: Sequence[str] = (),
    ) -> list[Any]:
        query = (
            sa.select(Task, Customer)
            .join(Customer, Customer.id == Task.customer_id)
            .where(
                Task.member_id == member_id,
                Task.status == "open",
                Task.due_on <= self.day,
                sa.or_(Task.snoozed_until.is_(None), Task.snoozed_until <= self.day),
            )
            .order_by(Task.due_on, Task.id)
        )
        if kinds:
            query = query.where(Task.kind.in_(kinds))
        if exclude:
            query = query.where(Task.kind.not_in(exclude))
        return list(self.session.execute(query).all())

    def _task_item(self, task: Task, customer: Customer, group: str) -> AgendaItem:
        return AgendaItem(
            group=group,
            ref=f"task:{task.id}",
            customer_id=customer.id,
            customer=customer.name,
            owner_id=customer.owner_id,
            title=task.kind.replace("_", " ").capitalize(),
            reason=task.reason,
            context=task.context or self.context(customer),
            due=task.due_on.isoformat(),
        )

    def reviews(self, member_id: int, shown: int) -> tuple[list[AgendaItem], int]:
        """Account reviews due (keepwell/reviews): oldest due first, `shown` of them."""
        from keepwell.reviews.service import due_for

        rows, total = due_for(self.session, member_id, self.day, shown)
        items = []
        for review, customer in rows:
            days = (self.day - review.due_on).days
            late = f", {days} day{'s' if days != 1 else ''} overdue" if days > 0 else ""
            items.append(
                AgendaItem(
                    group="review",
                    ref=f"review:{review.id}",
                    customer_id=customer.id,
                    customer=customer.name,
                    owner_id=customer.owner_id,
                    title="Account review",
                    reason=f"{customer.name or 'A key account'} is due an account review "
                    f"(due {review.due_on:%a %d %b}{late}): check-ins, delivery, goals, results.",
                    context=self.context(customer),
                    due=review.due_on.isoformat(),
                )
            )
        return items, max(0, total - len(items))

    def quiet(self, member_id: int, start: datetime, shown: int) -> tuple[list[AgendaItem], int]:
        """Customers past their next check-in: longest silence first, then highest value.

        The index (owner_id, next_check_in_at) hands them over in order of silence. When
        scores exist (`keepwell score`), the longest-silent few are re-ranked by what is
        at risk — the value the models expect to be lost — so the save calls that matter
        most come first.
        """
        condition = sa.and_(Customer.owner_id == member_id, Customer.next_check_in_at < start)
        total = self.session.scalar(sa.select(sa.func.count()).where(condition)) or 0
        customers = list(
            self.session.scalars(
                sa.select(Customer)
                .where(condition)
                .order_by(Customer.next_check_in_at, Customer.revenue_minor.desc())
                .limit(max(shown * 4, 100))
            )
        )
        risk = self._risk([c.id for c in customers])
        if risk:
            silence = {c.id: n for n, c in enumerate(customers)}
            customers.sort(key=lambda c: (-risk.get(c.id, 0), silence[c.id]))
        customers = customers[:shown]
        items = []
        conn = self.session.connection()
        for customer in customers:
            cadence = derived.cadence_days(conn, customer)
            since = customer.last_contact_at
            if since is not None:
                heard = f"No contact for {(self.day - since.date()).days} days"
            else:
                known = (customer.first_seen or customer.created_at).date()
                heard = f"Never contacted in {(self.day - known).days} days as a customer"
            bought = (
                f"; {customer.order_count} orders, {customer.revenue_minor / 100:,.2f} in all"
                if customer.order_count
                else ""
            )
            at_risk = risk.get(customer.id, 0)
            if at_risk > 0:
                bought += f"; about {at_risk / 100:,.2f} of purchases at risk by our models"
            assert customer.next_check_in_at is not None
            items.append(
                AgendaItem(
                    group="quiet",
                    ref=f"customer:{customer.id}",
                    customer_id=customer.id,
                    customer=customer.name,
                    owner_id=customer.owner_id,
                    title="Check in",
                    reason=f"{heard} (check in every {cadence} days){bought}.",
                    context=self.context(customer),
                    due=customer.next_check_in_at.isoformat(),
                )
            )
        return items, max(0, total - len(items))

    def _risk(self, ids: list[int]) -> dict[int, int]:
        """Each customer's latest expected value lost (scores up to today), if scored."""
        from keepwell.scoring.models import Score

        if not ids:
            return {}
        rows = self.session.execute(
            sa.select(Score.customer_id, Score.risk_minor)
            .where(Score.customer_id.in_(ids), Score.scored_on <= self.day)
            .order_by(Score.customer_id, Score.scored_on)
        )
        return {customer_id: risk for customer_id, risk in rows}  # the latest wins

    def special_dates(
        self, member_id: int, days_ahead: int, shown: int
    ) -> tuple[list[AgendaItem], int, bool]:
        """The next days' special dates: soonest first, and among a day's, the most
        valuable customers first; `shown` of them, with the count of the rest."""
        from keepwell.customers.special_dates import MAX_LIMIT, upcoming

        coming_up = upcoming(
            self.session, today=self.day, days_ahead=days_ahead, member_id=member_id,
            limit=MAX_LIMIT,
        )  # fmt: skip
        ids = {c.customer_id for c in coming_up}
        value: dict[int, int] = {
            cid: revenue
            for cid, revenue in self.session.execute(
                sa.select(Customer.id, Customer.revenue_minor).where(Customer.id.in_(ids))
            )
        }
        coming_up.sort(key=lambda c: (c.on, -value.get(c.customer_id, 0)))
        chosen = coming_up[:shown]
        customers = {
            c.id: c
            for c in self.session.scalars(
                sa.select(Customer).where(Customer.id.in_({c.customer_id for c in chosen}))
            )
        }
        items = []
        for coming in chosen:
            customer = customers[coming.customer_id]
            days = (coming.on - self.day).days
            when = {0: "today", 1: "tomorrow"}.get(days, f"in {days} days ({coming.on:%a %d %b})")
            what = {
                "birthday": "birthday",
                "customer_anniversary": f"{coming.years}-year anniversary as our customer"
                if coming.years
                else "anniversary as our customer",
            }.get(coming.kind, coming.label or coming.kind.replace("_", " "))
            culture = f" Mind: {coming.cultural_notes}" if coming.cultural_notes else ""
            items.append(
                AgendaItem(
                    group="special_date",
                    ref=f"customer:{coming.customer_id}",
                    customer_id=coming.customer_id,
                    customer=coming.customer_name,
                    owner_id=coming.owner_id,
                    title=f"Mark the {what}",
                    reason=f"{coming.customer_name}'s {what} is {when}: "
                    f"suggested, {coming.gesture}.{culture}",
                    context=self.context(customer),
                    due=coming.on.isoformat(),
                )
            )
        return items, max(0, len(coming_up) - len(items)), len(coming_up) >= MAX_LIMIT


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
