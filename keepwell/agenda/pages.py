"""Today (`/`): the signed-in member's agenda, and the one-click actions on its items.

Each action is a small form. With htmx it answers with the item, done, swapped in place
(or, when refused, the reason beside the form); without JavaScript the form posts and
the browser comes back to Today. The work is the concept services': these routes only
translate.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Form, Query, Request, Response
from fastapi.responses import HTMLResponse

from keepwell import clock
from keepwell.agenda.service import GROUPS, agenda_for
from keepwell.cases import service as cases
from keepwell.cases.models import Case
from keepwell.customers import service as customers
from keepwell.customers.models import Customer
from keepwell.errors import InvalidInput
from keepwell.promises import service as promises
from keepwell.promises.models import Promise
from keepwell.tasks import completion
from keepwell.tasks import service as tasks
from keepwell.tasks.models import Task
from keepwell.touches.models import CHANNELS
from keepwell.touches.service import log_touch
from keepwell.web.deps import DbSession, acting_member, for_update
from keepwell.web.pages import (
    PageActor,
    attempt,
    done,
    error_page,
    form_due,
    is_htmx,
    page_router,
    render,
    status_line,
)
from keepwell.web.schemas import Id

pages = page_router()

LABELS = {
    "promise_overdue": "Overdue promises",
    "promise_due": "Promises due today",
    "case": "Cases",
    "task": "Tasks",
    "quiet": "Gone quiet",
    "special_date": "Special dates",
}
SNOOZE_DAYS = (1, 3, 7, 14)
QUICK_CHANNELS = ("email", "call", "meeting", "chat")  # how a progress update or answer went
ELEMENT_ID = re.compile(r"^[a-z][a-z0-9_-]{0,120}$")  # an item's or a form's id, as sent

Text = Annotated[str, Form(max_length=20_000)]
Small = Annotated[str, Form(max_length=200)]


def label(group: str) -> str:
    """A group's heading; groups added later read from their name ("review" → "Review")."""
    return LABELS.get(group) or group.replace("_", " ").capitalize()


def item_id(group: str, ref: str) -> str:
    return f"{group}-{ref.replace(':', '-')}"


@pages.get("/", response_class=HTMLResponse)
def today(request: Request, session: DbSession, actor: PageActor) -> Response:
    """The member's day, in the agenda's order; groups nobody knew of yet come after."""
    agenda = agenda_for(session, acting_member(session, actor), clock.today())
    order = list(GROUPS) + sorted({i.group for i in agenda.items} - set(GROUPS))
    groups = [
        (group, label(group), [i for i in agenda.items if i.group == group]) for group in order
    ]
    request.state.status_line = status_line(session)
    return render(
        request,
        "today.html",
        {
            "section": "today",
            "title": "Today",
            "agenda": agenda,
            "groups": [g for g in groups if g[2]],
            "snooze_days": SNOOZE_DAYS,
            "item_id": item_id,
        },
    )


def _answer(
    request: Request,
    *,
    error: InvalidInput | None,
    customer: Customer | None,
    title: str,
    message: str,
    next_path: str = "/",
) -> Response:
    """The item done (htmx), the refusal beside the form (htmx), or back to Today.

    htmx names the item it will swap (HX-Target, the <li>'s id) and the form that sent
    the request (HX-Trigger); the form's error slot is that id and "-error"."""
    if error is not None:
        if not is_htmx(request):
            return error_page(request, 422, "That did not work", f"{error.field}: {error.reason}")
        form = request.headers.get("HX-Trigger", "")
        headers = {"HX-Reswap": "beforeend"}  # unknown form: the reason ends the item
        if ELEMENT_ID.match(form):
            headers = {"HX-Retarget": f"#{form}-error", "HX-Reswap": "innerHTML"}
        return render(
            request, "partials/form_error.html", {"error": error}, status=422, headers=headers
        )
    if not is_htmx(request):
        return done(request, next_path)
    item = request.headers.get("HX-Target", "")
    return render(
        request,
        "partials/agenda_done.html",
        {
            "key": item if ELEMENT_ID.match(item) else "",
            "customer": customer,
            "title": title,
            "message": message,
        },
    )


# --- the longer forms, fetched when asked for ----------------------------------------

ItemKey = Annotated[str, Query(max_length=200)]


def _form(
    request: Request,
    form: str,
    action: str,
    item: str,
    *,
    title: str,
    customer: Customer | None,
    about: str = "",
) -> Response:
    """The form alone (htmx puts it into the item), or a page holding it (no JS)."""
    context = {
        "form": form,
        "action": action,
        "key": item if ELEMENT_ID.match(item) else "item",
        "title": title,
        "customer": customer,
        "about": about,
        "quick_channels": QUICK_CHANNELS,
        "task_channels": CHANNELS,
        "section": "today",
    }
    template = "partials/agenda_form.html" if is_htmx(request) else "agenda_action.html"
    return render(request, template, context)


@pages.get("/today/promises/{promise_id}/update", response_class=HTMLResponse)
def promise_update_form(
    promise_id: Id, request: Request, session: DbSession, actor: PageActor, item: ItemKey = ""
) -> Response:
    promise = promises.get_promise(session, promise_id)
    return _form(
        request, "update", f"/today/promises/{promise_id}/update", item,
        title="Progress update", customer=_owner_of(session, promise),
        about=f"“{promise.what}”, due {promise.due_at:%a %d %b}",
    )  # fmt: skip


@pages.get("/today/tasks/{task_id}/done", response_class=HTMLResponse)
def task_done_form(
    task_id: Id, request: Request, session: DbSession, actor: PageActor, item: ItemKey = ""
) -> Response:
    task = tasks.get_task(session, task_id)
    return _form(
        request, "done", f"/today/tasks/{task_id}/done", item,
        title="Complete the task", customer=_owner_of(session, task), about=task.reason,
    )  # fmt: skip


@pages.get("/today/cases/{case_id}/respond", response_class=HTMLResponse)
def case_respond_form(
    case_id: Id, request: Request, session: DbSession, actor: PageActor, item: ItemKey = ""
) -> Response:
    case = cases.get_case(session, case_id)
    return _form(
        request, "respond", f"/today/cases/{case_id}/respond", item,
        title="Answer the case", customer=_owner_of(session, case), about=f"“{case.title}”",
    )  # fmt: skip


@pages.get("/today/customers/{customer_id}/log", response_class=HTMLResponse)
def log_call_form(
    customer_id: Id, request: Request, session: DbSession, actor: PageActor, item: ItemKey = ""
) -> Response:
    customer = customers.get_customer(session, customer_id)
    return _form(
        request, "log", f"/today/customers/{customer_id}/log", item,
        title="Log a call", customer=customer,
    )  # fmt: skip


# --- the actions -------------------------------------------------------------------


def _customer(session: Any, customer_id: int) -> Customer:
    return for_update(session, Customer, customer_id, "customer")


@pages.post("/today/customers/{customer_id}/log")
def log_call(
    customer_id: Id,
    request: Request,
    session: DbSession,
    actor: PageActor,
    summary: Text = "",
    channel: Small = "call",
) -> Response:
    """Log a call (or another channel) with the customer: it moves their next check-in."""
    customer = _customer(session, customer_id)
    me = acting_member(session, actor)

    def act() -> Any:
        if not summary.strip():
            raise InvalidInput("summary", "say in a few words what you talked about")
        return log_touch(session, customer, channel=channel, summary=summary, member=me)

    _, error = attempt(session, act)
    return _answer(
        request, error=error, customer=customer,
        title=f"Logged: {channel}", message=summary.strip(),
    )  # fmt: skip


@pages.post("/today/promises/{promise_id}/keep")
def keep_promise(
    promise_id: Id,
    request: Request,
    session: DbSession,
    actor: PageActor,
    outcome: Text = "",
) -> Response:
    """The promise is kept (on time, or late)."""
    promise = for_update(session, Promise, promise_id, "promise")
    _, error = attempt(
        session, lambda: promises.complete_promise(session, promise, outcome=outcome)
    )
    late = promise.status == "kept_late"
    return _answer(
        request, error=error, customer=_owner_of(session, promise),
        title="Promise kept" + (" (late)" if late else " on time"),
        message=f"“{promise.what}”" + (f" — {outcome.strip()}" if outcome.strip() else ""),
    )  # fmt: skip


@pages.post("/today/promises/{promise_id}/update")
def promise_update(
    promise_id: Id,
    request: Request,
    session: DbSession,
    actor: PageActor,
    note: Text = "",
    new_due: Small = "",
    channel: Small = "email",
) -> Response:
    """Tell the customer how the promise stands (logged as an interaction); a new,
    later due date is a slip."""
    promise = for_update(session, Promise, promise_id, "promise")
    me = acting_member(session, actor)

    def act() -> Any:
        due = form_due("new_due", new_due, required=False)
        return promises.progress_update(
            session, promise, note=note, new_due_at=due, channel=channel, member=me
        )

    _, error = attempt(session, act)
    return _answer(
        request, error=error, customer=_owner_of(session, promise),
        title="Progress update logged",
        message=f"{note.strip()} (due {promise.due_at:%a %d %b})",
    )  # fmt: skip


@pages.post("/today/cases/{case_id}/respond")
def respond_to_case(
    case_id: Id,
    request: Request,
    session: DbSession,
    actor: PageActor,
    summary: Text = "",
    channel: Small = "email",
) -> Response:
    """Answer the customer about the case: the first answer stops the clock."""
    case = for_update(session, Case, case_id, "case")
    me = acting_member(session, actor)
    _, error = attempt(
        session,
        lambda: cases.respond(session, case, summary=summary, channel=channel, member=me),
    )
    return _answer(
        request, error=error, customer=_owner_of(session, case),
        title="Answered the case", message=summary.strip(),
    )  # fmt: skip


@pages.post("/today/tasks/{task_id}/done")
def complete_task(
    task_id: Id,
    request: Request,
    session: DbSession,
    actor: PageActor,
    outcome: Text = "",
    channel: Small = "call",
) -> Response:
    """The task is done, with its outcome (logged as an interaction unless `none`)."""
    task = for_update(session, Task, task_id, "task")
    me = acting_member(session, actor)
    how = None if channel == "none" else channel
    _, error = attempt(
        session,
        lambda: completion.complete_task(session, task, outcome=outcome, channel=how, member=me),
    )
    return _answer(
        request, error=error, customer=_owner_of(session, task),
        title="Task done", message=outcome.strip() or task.reason,
    )  # fmt: skip


@pages.post("/today/tasks/{task_id}/snooze")
def snooze_task(
    task_id: Id,
    request: Request,
    session: DbSession,
    actor: PageActor,
    days: Small = "1",
) -> Response:
    """Hide the task for some days (its due date stays)."""
    task = for_update(session, Task, task_id, "task")

    def act() -> Any:
        if not days.strip().isdigit() or not 1 <= int(days) <= 365:
            raise InvalidInput("days", "snooze for 1 to 365 days")
        return tasks.snooze_task(session, task, until=clock.today() + timedelta(days=int(days)))

    _, error = attempt(session, act)
    until = task.snoozed_until
    return _answer(
        request, error=error, customer=_owner_of(session, task),
        title="Snoozed", message=f"Back on {until:%a %d %b}" if until else "",
    )  # fmt: skip


def _owner_of(session: Any, record: Any) -> Customer | None:
    found: Customer | None = session.get(Customer, record.customer_id)
    return found
