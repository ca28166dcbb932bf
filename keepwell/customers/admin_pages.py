"""Check-in cadences (`/admin/cadences`, admins only): how often each segment's
customers should hear from us — `service.set_cadence`, as the cadence command does."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request, Response

from keepwell.accounts.admin_pages import AdminPage, admin_page
from keepwell.customers import derived, service
from keepwell.errors import InvalidInput
from keepwell.web.deps import DbSession
from keepwell.web.pages import attempt, page_router

pages = page_router()


def _page(request: Request, session: DbSession, **extra: Any) -> Response:
    found = service.cadences(session)
    default = found.pop(derived.DEFAULT_SEGMENT, derived.DEFAULT_CADENCE_DAYS)
    return admin_page(
        request, "admin_cadences.html", "Check-in cadences", default=default,
        cadences=sorted(found.items()), any=derived.DEFAULT_SEGMENT, **extra,
    )  # fmt: skip


@pages.get("/admin/cadences")
def cadences_page(request: Request, session: DbSession, actor: AdminPage) -> Response:
    return _page(request, session)


@pages.post("/admin/cadences")
def set_cadence(
    request: Request,
    session: DbSession,
    actor: AdminPage,
    segment: Annotated[str, Form(max_length=100)] = "",
    days: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """Set a segment's cadence ("*" or empty: the default); says how many customers'
    next check-in moved."""

    def change() -> int:
        text = days.strip()
        if not text.lstrip("-").isdigit():
            raise InvalidInput("days", f"give a whole number of days, not {text[:20]!r}")
        return service.set_cadence(session, segment, int(text))

    moved, error = attempt(session, change)
    if error is not None:
        return _page(request, session, error=error, form={"segment": segment, "days": days})
    name = segment.strip().lower() or "every other segment"
    notice = f"Cadence of {name} set to {int(days)} days; {moved:,} customers' next check-in moved."
    return _page(request, session, notice=notice)
