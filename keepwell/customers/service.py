"""Operations on customers: look-ups, the owner, the check-in cadence, the overview."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import StaleDataError

from keepwell import clock
from keepwell.accounts.models import TeamMember
from keepwell.customers import derived
from keepwell.customers.models import Cadence, Customer, OwnerChange
from keepwell.customers.search import search_terms
from keepwell.db import get_or_raise
from keepwell.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    check_choice,
    check_limit,
    check_offset,
    check_text,
)
from keepwell.orders.models import Order


def find_customer(session: Session, ref: str | int) -> Customer:
    """A customer by Keepwell id (`#12` or 12), external id, or e-mail address."""
    text = str(ref).strip()
    customer: Customer | None = None
    if isinstance(ref, int) or (text.startswith("#") and text[1:].isdigit()):
        customer = session.get(Customer, int(text.lstrip("#")))
    else:
        customer = session.scalar(sa.select(Customer).where(Customer.external_id == text))
        if customer is None and "@" in text:
            customer = session.scalar(
                sa.select(Customer)
                .where(Customer.email == text.lower())
                .order_by(Customer.id)
                .limit(1)
            )
        if customer is None and text.isdigit():
            customer = session.get(Customer, int(text))
    if customer is None:
        raise NotFound(f"no customer {ref!r} (give an id like #12, an external id or an e-mail)")
    return customer


def set_owner(
    session: Session,
    customer: Customer,
    member: TeamMember | None,
    *,
    by: TeamMember | None = None,
    reason: str = "",
) -> OwnerChange | None:
    """Make `member` the customer's point person; the change is recorded."""
    new_id = member.id if member is not None else None
    if customer.owner_id == new_id:
        return None
    change = OwnerChange(
        customer_id=customer.id,
        from_member_id=customer.owner_id,
        to_member_id=new_id,
        changed_by_id=by.id if by is not None else None,
        changed_at=clock.now(),
        reason=reason,
    )
    customer.owner_id = new_id
    session.add(change)
    session.flush()
    return change


def reschedule(session: Session, customer: Customer) -> None:
    """Set the next check-in: one cadence after the last interaction."""
    days = derived.cadence_days(session.connection(), customer)
    customer.next_check_in_at = derived.next_check_in(customer, days)


def set_cadence(session: Session, segment: str, days: int) -> int:
    """Check in with a segment's customers every `days` days ("*" for the default).

    Returns how many customers' next check-in moved.
    """
    if not 1 <= days <= 3660:
        raise InvalidInput("days", f"a cadence is 1 to 3660 days, not {days}")
    segment = segment.strip().lower() or derived.DEFAULT_SEGMENT
    row = session.get(Cadence, segment)
    if row is None:
        session.add(Cadence(segment=segment, days=days))
    else:
        row.days = days
    session.flush()
    affected = sa.select(Customer.id).where(Customer.cadence_days.is_(None))
    if segment != derived.DEFAULT_SEGMENT:
        affected = affected.where(Customer.segment == segment)
    ids = list(session.scalars(affected))
    derived.refresh(session.connection(), ids)
    session.expire_all()
    return len(ids)


def set_customer_cadence(session: Session, customer: Customer, days: int | None) -> None:
    """Check in with this customer every `days` days (None: as their segment)."""
    if days is not None and not 1 <= days <= 3660:
        raise InvalidInput("days", f"a cadence is 1 to 3660 days, not {days}")
    customer.cadence_days = days
    reschedule(session, customer)
    session.flush()


def cadences(session: Session) -> dict[str, int]:
    rows = session.execute(sa.select(Cadence.segment, Cadence.days))
    return {segment: days for segment, days in rows}


# --- create, change, erase; the list ---------------------------------------------

MAX_LIMIT = 200
MAX_NAME = 300
MAX_NOTES = 20_000
MAX_TAGS = 50
MAX_TAG = 100
# Customer fields a person sets (the rest are derived: see keepwell/customers/derived.py).
EDITABLE = (
    "external_id", "name", "email", "phone", "company", "segment", "tags", "owner_id",
    "first_seen", "personal_notes", "preferred_channel", "language", "cultural_notes",
    "birthday", "marketing_consent", "opted_out", "cadence_days",
)  # fmt: skip


def get_customer(session: Session, customer_id: int) -> Customer:
    return get_or_raise(session, Customer, customer_id, "customer")


def create_customer(
    session: Session, fields: dict[str, Any], *, by: TeamMember | None = None
) -> Customer:
    """A new customer from `fields` (names as in EDITABLE; `name` at least).

    Every value is checked as `update_customer` checks it; nothing is written when one is
    refused.
    """
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise InvalidInput(sorted(unknown)[0], "not a customer field")
    now = clock.now()
    customer = Customer(
        name="", tags=[], marketing_consent=False, created_at=now, updated_at=now,
        order_count=0, revenue_minor=0,
    )  # fmt: skip
    _apply(session, customer, fields, new=True)
    if not customer.name and not customer.email and not customer.external_id:
        raise InvalidInput("name", "give a name, an e-mail or an external id")
    reschedule(session, customer)
    session.add(customer)
    session.flush()
    if customer.owner_id is not None:  # the first owner is recorded like any change
        session.add(
            OwnerChange(
                customer_id=customer.id, from_member_id=None, to_member_id=customer.owner_id,
                changed_by_id=by.id if by is not None else None, changed_at=now,
                reason="new customer",
            )
        )  # fmt: skip
        session.flush()
    return customer


def update_customer(
    session: Session,
    customer: Customer,
    changes: dict[str, Any],
    *,
    expected_version: int | None = None,
    by: TeamMember | None = None,
    reason: str = "",
) -> Customer:
    """Change the fields named in `changes` (None clears a field that may be empty).

    `expected_version`: the version the change was made against; another one means
    someone changed the customer meanwhile (Conflict) and nothing is written.
    """
    if expected_version is not None and expected_version != customer.version:
        raise Conflict(
            "version",
            f"customer #{customer.id} is at version {customer.version}, not {expected_version}: "
            "someone changed it meanwhile; load it again",
        )
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidInput(sorted(unknown)[0], "not a customer field")
    owner_change = "owner_id" in changes and changes["owner_id"] != customer.owner_id
    new_owner_id = changes.get("owner_id")
    rest = {k: v for k, v in changes.items() if k != "owner_id"}
    _apply(session, customer, rest, new=False)
    if owner_change:
        member = _member_or_refuse(session, new_owner_id) if new_owner_id is not None else None
        set_owner(session, customer, member, by=by, reason=reason)
    if {"cadence_days", "segment", "first_seen"} & set(changes):
        reschedule(session, customer)
    try:
        session.flush()
    except StaleDataError:
        raise Conflict("customer", "changed by someone else meanwhile; load it again") from None
    return customer


def delete_customer(session: Session, customer: Customer) -> None:
    """Erase the customer and everything recorded about them (privacy): orders,
    interactions, promises, cases, tasks, special dates. The audit trail keeps that it
    happened, and forgets what it knew about them (keepwell/accounts/audit.py)."""
    session.execute(sa.delete(Order).where(Order.customer_id == customer.id))
    session.delete(customer)
    try:
        session.flush()
    except StaleDataError:
        raise Conflict("customer", "changed by someone else meanwhile; load it again") from None


SORTS = ("id", "name", "-revenue", "-last_order", "health")


@dataclass(frozen=True)
class CustomerFilter:
    """One definition of the customers list, for the CLI, the API and the pages.

    `search` matches an external id or an e-mail address exactly, or a part of the name,
    the e-mail or the company (case-insensitive; see `search_terms`). `quiet` keeps
    customers past their next check-in. `stage` and `health_min`/`health_max` read the
    latest scoring (`keepwell score`): customers not scored then do not match them.
    `sort`: "id" (the default), "name", "-revenue" (most first), "-last_order" (buyers
    only, the latest first) or "health" (scored customers only, the lowest first); each
    is read along an index. `after` continues after that id
    (keyset pagination with sort "id", as fast on page 1,000 as on 1); `offset` skips
    rows in any order (at most MAX_OFFSET).
    """

    owner_id: int | None = None
    segment: str | None = None
    search: str | None = None
    quiet: bool = False
    stage: str | None = None
    health_min: int | None = None
    health_max: int | None = None
    sort: str = "id"
    after: int | None = None
    offset: int = 0
    limit: int = 50

    def __post_init__(self) -> None:
        from keepwell.scoring.models import STAGES

        check_limit(self.limit, MAX_LIMIT)
        check_choice("stage", self.stage, STAGES)
        check_choice("sort", self.sort, SORTS)
        for name in ("health_min", "health_max"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 100:
                raise InvalidInput(name, f"health is 0 to 100, not {value}")
        if (
            self.health_min is not None
            and self.health_max is not None
            and self.health_min > self.health_max
        ):
            raise InvalidInput("health_min", "is above health_max")
        check_offset(self.offset)
        if self.after is not None and self.sort != "id":
            raise InvalidInput("after", "continues only the list sorted by id; use offset")

    @property
    def needs_scores(self) -> bool:
        return (
            self.stage is not None
            or self.health_min is not None
            or self.health_max is not None
            or self.sort == "health"
        )

    def ordered(self, session: Session) -> sa.Select[Customer]:
        """Every matching customer, in the list's order (no page): the list and the export.

        `session` is read when there is a `search` text (see `search_terms`)."""
        from keepwell.scoring.models import Score

        q = sa.select(Customer)
        if self.owner_id is not None:
            q = q.where(Customer.owner_id == self.owner_id)
        if self.segment:
            q = q.where(Customer.segment == self.segment.strip().lower())
        text = " ".join((self.search or "").split())
        if text:
            q = q.where(*search_terms(session, text))
        if self.quiet:
            q = q.where(Customer.next_check_in_at < clock.now())
        if self.needs_scores:
            q = q.join(
                Score,
                sa.and_(Score.customer_id == Customer.id, Score.scored_on == latest_scoring()),
            )
            if self.stage is not None:
                q = q.where(Score.stage == self.stage)
            if self.health_min is not None:
                q = q.where(Score.health >= self.health_min)
            if self.health_max is not None:
                q = q.where(Score.health <= self.health_max)
        # joined with the scores, the customer id is read (in order) from their index
        key = Score.customer_id if self.needs_scores else Customer.id
        if self.after is not None:
            q = q.where(key > self.after)
        if self.sort == "name":
            return q.order_by(Customer.name, Customer.id)
        if self.sort == "-revenue":
            return q.order_by(Customer.revenue_minor.desc(), Customer.id.desc())
        if self.sort == "-last_order":
            q = q.where(Customer.last_order_at.is_not(None))
            return q.order_by(Customer.last_order_at.desc(), Customer.id.desc())
        if self.sort == "health":
            return q.order_by(Score.health, Score.customer_id)
        return q.order_by(key)

    def query(self, session: Session) -> sa.Select[Customer]:
        """One page of the list."""
        q = self.ordered(session)
        return q.offset(self.offset).limit(self.limit) if self.offset else q.limit(self.limit)


def latest_scoring() -> sa.ScalarSelect[Any]:
    """The latest scoring date up to today, as SQL (one index read, evaluated once)."""
    from keepwell.scoring.models import Score

    return (
        sa.select(sa.func.max(Score.scored_on))
        .where(Score.scored_on <= clock.today())
        .scalar_subquery()
    )


def list_customers(session: Session, filters: CustomerFilter) -> list[Customer]:
    return list(session.scalars(filters.query(session)))


def latest_scores(session: Session, customer_ids: list[int]) -> dict[int, Any]:
    """The latest scoring's row of each of these customers (for a page of the list)."""
    from keepwell.scoring.models import Score

    if not customer_ids:
        return {}
    rows = session.scalars(
        sa.select(Score).where(
            Score.scored_on == latest_scoring(), Score.customer_id.in_(customer_ids)
        )
    )
    return {row.customer_id: row for row in rows}


EXPORT_COLUMNS = (
    "id", "external_id", "name", "email", "phone", "company", "segment", "owner_email",
    "first_seen", "order_count", "revenue_minor", "last_order_at", "last_contact_at",
    "next_check_in_at", "stage", "health", "scored_on",
)  # fmt: skip


def export_rows(session: Session, filters: CustomerFilter) -> Iterator[tuple[Any, ...]]:
    """Every customer the filter matches (no page), as EXPORT_COLUMNS, streamed from the
    database a thousand rows at a time — never the whole list in memory."""
    from keepwell.scoring.models import Score

    scores = aliased(Score)
    owner = aliased(TeamMember)
    q = (
        filters.ordered(session)
        .outerjoin(owner, owner.id == Customer.owner_id)
        .outerjoin(
            scores,
            sa.and_(scores.customer_id == Customer.id, scores.scored_on == latest_scoring()),
        )
        .with_only_columns(
            Customer.id,
            Customer.external_id,
            Customer.name,
            Customer.email,
            Customer.phone,
            Customer.company,
            Customer.segment,
            owner.email,
            Customer.first_seen,
            Customer.order_count,
            Customer.revenue_minor,
            Customer.last_order_at,
            Customer.last_contact_at,
            Customer.next_check_in_at,
            scores.stage,
            scores.health,
            scores.scored_on,
        )
    )
    for row in session.execute(q.execution_options(yield_per=1000)):
        yield tuple(row)


def _apply(session: Session, customer: Customer, fields: dict[str, Any], *, new: bool) -> None:
    """Check each value and set it on `customer`; the first bad one is refused."""
    from keepwell.customers.models import CHANNELS
    from keepwell.ingest.parsing import CellError, parse_email

    for name, value in fields.items():
        if name == "name":
            customer.name = check_text(name, " ".join(str(value or "").split()), MAX_NAME)
        elif name == "external_id":
            value = _optional_text(name, value, 200)
            if value is not None and value != customer.external_id:
                taken = session.scalar(sa.select(Customer.id).where(Customer.external_id == value))
                if taken is not None:
                    raise InvalidInput(name, f"customer #{taken} has external id {value!r}")
            customer.external_id = value
        elif name == "email":
            text = _optional_text(name, value, 320)
            if text is not None:
                try:
                    text = parse_email(text)
                except CellError as exc:
                    raise InvalidInput(name, str(exc)) from None
            customer.email = text
        elif name in ("phone", "company", "language"):
            limit = {"phone": 64, "company": MAX_NAME, "language": 35}[name]
            setattr(customer, name, _optional_text(name, value, limit))
        elif name == "segment":
            text = _optional_text(name, value, 100)
            customer.segment = text.lower() if text is not None else None
        elif name == "tags":
            tags = value or []
            if len(tags) > MAX_TAGS:
                raise InvalidInput(name, f"more than {MAX_TAGS} tags")
            cleaned = {" ".join(str(t).split()).lower() for t in tags}
            if any(len(t) > MAX_TAG for t in cleaned):
                raise InvalidInput(name, f"a tag longer than {MAX_TAG} characters")
            customer.tags = sorted(t for t in cleaned if t)
        elif name == "owner_id":
            member = _member_or_refuse(session, value) if value is not None else None
            customer.owner_id = member.id if member is not None else None
        elif name == "first_seen":
            if value is not None:
                if not isinstance(value, datetime) or value.tzinfo is None:
                    raise InvalidInput(name, "give a date and time with a time zone")
                if value > clock.now() + timedelta(days=1):
                    raise InvalidInput(name, "a customer cannot be first seen in the future")
            customer.first_seen = value
            customer.anniversary_md = derived.md(value.astimezone(UTC) if value else None)
        elif name in ("personal_notes", "cultural_notes"):
            setattr(customer, name, _optional_text(name, value, MAX_NOTES))
        elif name == "preferred_channel":
            text = _optional_text(name, value, 20)
            if text is not None and text.lower() not in CHANNELS:
                raise InvalidInput(name, f"use one of {', '.join(CHANNELS)}, not {text!r}")
            customer.preferred_channel = text.lower() if text is not None else None
        elif name == "birthday":
            if value is not None:
                if not isinstance(value, date) or isinstance(value, datetime):
                    raise InvalidInput(name, "give a date (YYYY-MM-DD)")
                if value > clock.today():
                    raise InvalidInput(name, f"{value.isoformat()} is in the future")
            customer.birthday = value
            customer.birthday_md = derived.md(value)
        elif name == "marketing_consent":
            customer.marketing_consent = bool(value)
        elif name == "opted_out":
            if value and customer.opted_out_at is None:
                customer.opted_out_at = clock.now()
                customer.marketing_consent = False
            elif not value:
                customer.opted_out_at = None
        elif name == "cadence_days":
            if value is not None and not 1 <= int(value) <= 3660:
                raise InvalidInput(name, f"a cadence is 1 to 3660 days, not {value}")
            customer.cadence_days = value
    if new and customer.opted_out_at is not None:
        customer.marketing_consent = False


def _optional_text(field: str, value: Any, limit: int) -> str | None:
    if value is None:
        return None
    return check_text(field, str(value), limit) or None


def _member_or_refuse(session: Session, member_id: int) -> TeamMember:
    member = session.get(TeamMember, member_id)
    if member is None:
        raise InvalidInput("owner_id", f"no team member #{member_id}")
    return member
