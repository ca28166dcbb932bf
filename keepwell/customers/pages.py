"""The customer page (`/customers/{id}`): profile, personal notes, owner, consent, special
dates, the latest scores with their explanation, the timeline, and quick forms to log an
interaction, make a promise, open a case and add a special date.

The timeline is `customers.record.customer_record`'s, so every kind of event it learns
(feedback, reviews …) shows here without a change. The forms call the concept services;
with htmx the record part of the page is swapped in place, without JS the browser comes
back to the page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Form, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.cases import service as cases
from keepwell.cases.models import SEVERITIES
from keepwell.customers import service, special_dates
from keepwell.customers.models import Customer
from keepwell.customers.record import customer_record
from keepwell.errors import InvalidInput
from keepwell.promises import service as promises
from keepwell.scoring.history import score_history
from keepwell.touches.models import CHANNELS, DIRECTIONS, SENTIMENTS
from keepwell.touches.service import log_touch
from keepwell.web.deps import Actor, DbSession, acting_member, for_update
from keepwell.web.pages import (
    PageActor,
    attempt,
    done,
    error_page,
    form_day,
    form_due,
    is_htmx,
    page_router,
    render,
)
from keepwell.web.schemas import Id

pages = page_router()

TIMELINE = 60  # newest events of each kind read for the page
Text = Annotated[str, Form(max_length=20_000)]
Small = Annotated[str, Form(max_length=300)]


def _context(session: Session, customer: Customer, **extra: Any) -> dict[str, Any]:
    record = customer_record(session, customer, limit=TIMELINE)
    scores = score_history(session, customer.id, until=clock.today(), limit=12)
    return {
        "section": "customers",
        "title": customer.name or f"Customer #{customer.id}",
        "customer": customer,
        "record": record,
        "score": scores[0] if scores else None,
        "trend": list(reversed(scores)),
        "channels": CHANNELS,
        "directions": DIRECTIONS,
        "sentiments": SENTIMENTS,
        "severities": SEVERITIES,
        "date_kinds": special_dates.KINDS,
        **extra,
    }


@pages.get("/customers/{customer_id}", response_class=HTMLResponse)
def customer_page(
    customer_id: Id, request: Request, session: DbSession, actor: PageActor
) -> Response:
    customer = service.get_customer(session, customer_id)
    return render(request, "customer.html", _context(session, customer))


def _after(
    request: Request,
    session: Session,
    customer: Customer,
    form: str,
    error: InvalidInput | None,
    notice: str,
) -> Response:
    """The record part, fresh (htmx); the refusal beside the form (htmx); or back."""
    if error is not None:
        if not is_htmx(request):
            return error_page(request, 422, "That did not work", f"{error.field}: {error.reason}")
        return render(
            request,
            "partials/form_error.html",
            {"error": error},
            status=422,
            headers={"HX-Retarget": f"#{form}-error", "HX-Reswap": "innerHTML"},
        )
    if not is_htmx(request):
        return done(request, f"/customers/{customer.id}")
    session.flush()
    return render(
        request,
        "partials/customer_record.html",
        _context(session, customer, notice=notice),
        headers={"HX-Trigger": "recorded"},
    )


def _write(
    request: Request,
    session: Session,
    customer_id: int,
    form: str,
    action: Callable[[Customer], Any],
    notice: str,
) -> Response:
    customer = for_update(session, Customer, customer_id, "customer")
    _, error = attempt(session, lambda: action(customer))
    return _after(request, session, customer, form, error, notice)


@pages.post("/customers/{customer_id}/interactions")
def log_interaction(
    customer_id: Id,
    request: Request,
    session: DbSession,
    actor: PageActor,
    summary: Text = "",
    channel: Small = "call",
    direction: Small = "outbound",
    sentiment: Small = "",
) -> Response:
    """Log an interaction (it moves the next check-in)."""
    me = _me(session, actor)

    def act(customer: Customer) -> Any:
        if not summary.strip():
            raise InvalidInput("summary", "say in a few words what happened")
        return log_touch(
            session, customer, channel=channel, summary=summary, member=me,
            direction=direction, sentiment=sentiment or None,
        )  # fmt: skip

    return _write(request, session, customer_id, "log", act, f"Logged the {channel}.")


@pages.post("/customers/{customer_id}/promises")
def make_promise(
    customer_id: Id,
    request: Request,
    session: DbSession,
    actor: PageActor,
    what: Text = "",
    due: Small = "",
) -> Response:
    """Record a promise made to the customer, due by the end of a day (17:00 UTC)."""

    def act(customer: Customer) -> Any:
        due_at = form_due("due", due)
        assert due_at is not None
        return promises.make_promise(session, customer, what=what, due_at=due_at)

    return _write(request, session, customer_id, "promise", act, "Promise recorded.")


@pages.post("/customers/{customer_id}/cases")
def open_case(
    customer_id: Id,
    request: Request,
    session: DbSession,
    actor: PageActor,
    title: Small = "",
    severity: Small = "normal",
    description: Text = "",
) -> Response:
    """Open a case for a problem the customer raised."""

    def act(customer: Customer) -> Any:
        return cases.open_case(
            session, customer, title=title, description=description, severity=severity
        )

    return _write(request, session, customer_id, "case", act, "Case opened.")


@pages.post("/customers/{customer_id}/dates")
def add_date(
    customer_id: Id,
    request: Request,
    session: DbSession,
    actor: PageActor,
    kind: Small = "anniversary",
    on: Small = "",
    label: Small = "",
    yearly: Small = "",
) -> Response:
    """Remember a special date: an anniversary, a renewal, a founding day, or a birthday."""

    def act(customer: Customer) -> Any:
        day = form_day("on", on)
        assert day is not None
        if kind == "birthday":
            return special_dates.set_birthday(session, customer, day)
        return special_dates.add_special_date(
            session, customer, kind=kind, on_date=day, label=label, yearly=bool(yearly)
        )

    return _write(request, session, customer_id, "date", act, "Special date added.")


def _me(session: Session, actor: Actor) -> Any:
    return acting_member(session, actor)
