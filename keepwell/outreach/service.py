"""Two personal touches the desk prepares and a person sends.

*What we did for you*: for one customer (or each customer of a segment) over a period,
a short note listing what the team did — promises kept, problems solved and what was
changed so they do not recur, orders delivered, paperwork taken care of — ending with
a question asking for their feedback. The owner edits it and sends it (`send_note`),
through the outbox and within the contact budget.

*Pass it on*: an admin enters a resource (an article, a guide, a product update) with
topics. The desk finds the customers it concerns — a topic among their tags, in their
personal notes, their segment, or in the name of a product they bought — and, within
the budget and their consent, e-mails it to them, or gives their owner a task to pass
it on personally. Customers it does not concern get nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlparse

import sqlalchemy as sa
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.accounts.models import TeamMember
from keepwell.cases.models import Case
from keepwell.customers.models import Customer
from keepwell.db import get_or_raise
from keepwell.errors import InvalidInput
from keepwell.orders.models import Order
from keepwell.outreach import budget as pressure
from keepwell.outreach.mail import Outbox, Queued, queue_message
from keepwell.outreach.models import RESOURCE_KINDS, Resource
from keepwell.promises.models import Promise
from keepwell.tasks.models import Task
from keepwell.tasks.service import create_task, find_task

MAX_PERIOD_DAYS = 3660
MAX_SEGMENT_DRAFTS = 500
MAX_TOPICS = 20
KEPT = ("kept", "kept_late")


# --- what we did for you --------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    customer_id: int
    customer: str
    subject: str
    body: str
    items: int  # how many things it lists (0: nothing to tell)


def _window(start: date, end: date) -> tuple[datetime, datetime]:
    if end < start:
        raise InvalidInput("end", "the period ends before it starts")
    if (end - start).days > MAX_PERIOD_DAYS:
        raise InvalidInput("start", f"a period of at most {MAX_PERIOD_DAYS} days")
    return (
        datetime.combine(start, time(0), UTC),
        datetime.combine(end + timedelta(days=1), time(0), UTC),
    )


def draft_for(session: Session, customer: Customer, start: date, end: date) -> Draft:
    """The note for one customer over [start, end] (days, both included)."""
    low, high = _window(start, end)
    lines: list[str] = []
    promises = session.scalars(
        sa.select(Promise)
        .where(
            Promise.customer_id == customer.id,
            Promise.status.in_(KEPT),
            Promise.completed_at >= low,
            Promise.completed_at < high,
        )
        .order_by(Promise.completed_at)
    )
    lines += [f"- We promised {p.what.rstrip('.')}, and did it." for p in promises]
    cases = session.scalars(
        sa.select(Case)
        .where(
            Case.customer_id == customer.id,
            Case.status.in_(("resolved", "confirmed")),
            Case.resolved_at >= low,
            Case.resolved_at < high,
        )
        .order_by(Case.resolved_at)
    )
    for case in cases:
        line = f"- You told us about '{case.title}': {case.resolution.rstrip('.')}."
        if case.prevention:
            line += f" So that it does not happen again: {case.prevention.rstrip('.')}."
        lines.append(line)
    orders = session.execute(
        sa.select(sa.func.count(), sa.func.min(Order.product)).where(
            Order.customer_id == customer.id, Order.ordered_at >= low, Order.ordered_at < high
        )
    ).one()
    if orders[0]:
        what = f" (among them {orders[1]})" if orders[1] else ""
        lines.append(f"- We delivered {orders[0]} order{'s' if orders[0] != 1 else ''}{what}.")
    paperwork = session.scalars(
        sa.select(Task)
        .where(
            Task.customer_id == customer.id,
            Task.status == "done",
            Task.completed_at >= low,
            Task.completed_at < high,
            Task.outcome != "",
            Task.kind.not_in(("confirm_case",)),
        )
        .order_by(Task.completed_at)
        .limit(10)
    )
    lines += [f"- {t.outcome.rstrip('.')}." for t in paperwork]
    name = customer.name.strip()
    first = name.split()[0] if name else "there"
    owner = session.get(TeamMember, customer.owner_id) if customer.owner_id else None
    signature = (owner.name or owner.email) if owner is not None else "The team"
    listed = "\n".join(lines) if lines else "- (nothing recorded in this period: add what you did)"
    body = (
        f"Hello {first},\n\n"
        f"Here is what we took care of for you between {start:%d %B %Y} and {end:%d %B %Y}:\n\n"
        f"{listed}\n\n"
        "How did we do? Is there anything we could have done better, or anything we can "
        "help with now? Just reply to this e-mail.\n\n"
        f"{signature}\n"
    )
    return Draft(customer.id, name, "What we did for you", body, len(lines))


def drafts_for_segment(session: Session, segment: str, start: date, end: date) -> list[Draft]:
    """A draft for each customer of `segment` with something to tell (at most 500)."""
    segment = segment.strip()
    if not segment:
        raise InvalidInput("segment", "name a segment")
    customers = session.scalars(
        sa.select(Customer)
        .where(Customer.segment == segment, Customer.email.is_not(None))
        .order_by(Customer.id)
        .limit(MAX_SEGMENT_DRAFTS)
    )
    drafts = [draft_for(session, c, start, end) for c in customers]
    return [d for d in drafts if d.items]


def send_note(
    session: Session,
    customer: Customer,
    *,
    subject: str,
    body: str,
    member: TeamMember | None = None,
) -> Queued:
    """Send a note a person wrote (or edited): through the outbox, within the budget."""
    digest = hashlib.sha256(f"{subject}\n{body}".encode()).hexdigest()[:20]
    return queue_message(
        session,
        customer,
        category="service",
        subject=subject,
        body=body,
        dedupe_key=f"note:{digest}",
        member=member,
    )


# --- pass it on ------------------------------------------------------------------------------


def add_resource(
    session: Session,
    *,
    title: str,
    url: str,
    topics: list[str],
    kind: str = "article",
    product: str | None = None,
    published_on: date | None = None,
) -> Resource:
    title = " ".join(title.split())
    if not title or len(title) > 300:
        raise InvalidInput("title", "give a title of 1 to 300 characters")
    url = url.strip()
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or len(url) > 2000:
        raise InvalidInput("url", "give an http(s) address")
    if kind not in RESOURCE_KINDS:
        raise InvalidInput("kind", f"use one of {', '.join(RESOURCE_KINDS)}")
    cleaned = sorted({" ".join(t.split()).lower() for t in topics if t.strip()})
    if not cleaned and not product:
        raise InvalidInput("topics", "give at least one topic (or a product)")
    if len(cleaned) > MAX_TOPICS or any(len(t) > 50 or '"' in t for t in cleaned):
        raise InvalidInput("topics", f"at most {MAX_TOPICS} topics of 1 to 50 characters")
    if product is not None:
        product = product.strip() or None
        if product is not None and len(product) > 300:
            raise InvalidInput("product", "longer than 300 characters")
    if kind == "product_update" and not product:
        raise InvalidInput("product", "a product update names its product")
    resource = Resource(
        kind=kind,
        title=title,
        url=url,
        topics=cleaned,
        product=product,
        published_on=published_on or clock.today(),
        created_at=clock.now(),
    )
    session.add(resource)
    session.flush()
    return resource


def list_resources(session: Session, limit: int = 100) -> list[Resource]:
    return list(
        session.scalars(
            sa.select(Resource)
            .order_by(Resource.published_on.desc(), Resource.id.desc())
            .limit(limit)
        )
    )


def get_resource(session: Session, resource_id: int) -> Resource:
    return get_or_raise(session, Resource, resource_id, "resource")


def concerned(resource: Resource) -> sa.Select[int]:
    """The customers a resource concerns, as one query (never the others, never one who
    opted out)."""
    clauses: list[sa.ColumnElement[bool]] = []
    tags = sa.func.lower(sa.cast(Customer.tags, sa.String))
    notes = sa.func.lower(sa.func.coalesce(Customer.personal_notes, ""))
    for topic in resource.topics:
        clauses += [
            tags.contains(f'"{topic}"', autoescape=True),
            notes.contains(topic, autoescape=True),
            sa.func.lower(sa.func.coalesce(Customer.segment, "")) == topic,
        ]
    products = [p for p in [resource.product, *resource.topics] if p]
    bought = (
        sa.select(Order.customer_id)
        .where(
            sa.or_(
                *[
                    sa.func.lower(Order.product).contains(p.lower(), autoescape=True)
                    for p in products
                ]
            )
        )
        .distinct()
    )
    clauses.append(Customer.id.in_(bought))
    return (
        sa.select(Customer.id)
        .where(
            sa.or_(*clauses),
            Customer.opted_out_at.is_(None),  # opted out: not even a personal word about it
            sa.or_(Customer.external_id.is_(None), ~Customer.external_id.startswith("erased:")),
        )
        .order_by(Customer.id)
    )


@dataclass(frozen=True)
class PassedOn:
    matched: int
    emailed: int
    tasks: int


def pass_on(session: Session, resource: Resource, *, email: bool = True) -> PassedOn:
    """E-mail the resource to each customer it concerns who may get it (consent, budget);
    give the owner of each other one a task to pass it on personally. Twice adds nothing."""
    ids = list(session.scalars(concerned(resource)))
    emailed = tasks = 0
    for part in range(0, len(ids), 1000):
        chunk = ids[part : part + 1000]
        outbox = Outbox(session, chunk)
        for customer in session.scalars(sa.select(Customer).where(Customer.id.in_(chunk))):
            if email and pressure.may_email(customer, "marketing") is None:
                queued = outbox.queue(
                    customer,
                    category="marketing",
                    template="pass_it_on",
                    dedupe_key=f"resource:{resource.id}",
                    extra={"title": resource.title, "url": resource.url},
                )
                if queued.queued:
                    emailed += 0 if queued.existing else 1
                    continue
            if find_task(session, customer.id, f"pass-on:{resource.id}") is not None:
                continue
            create_task(
                session,
                customer,
                kind="pass_it_on",
                due_on=clock.today() + timedelta(days=3),
                reason=f"Pass on '{resource.title}' to {customer.name or 'this customer'} "
                f"personally, if it fits: {resource.url}",
                source="outreach",
                dedupe_key=f"pass-on:{resource.id}",
            )
            tasks += 1
        outbox.flush()
    return PassedOn(len(ids), emailed, tasks)
