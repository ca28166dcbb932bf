"""The promises list (`/promises`): `service.PromiseFilter`, as `GET /api/promises` and
`keepwell promise list` use it; yours and open by default."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

from keepwell.accounts.service import list_members
from keepwell.promises import service
from keepwell.promises.models import STATUSES
from keepwell.web.deps import DbSession
from keepwell.web.listing import ME, choice, customer_names, page_size, pager, whole_number, whose
from keepwell.web.pages import PageActor, page_router, render

pages = page_router()
Param = Annotated[str, Query(max_length=40)]


@pages.get("/promises")
def promise_list(
    request: Request,
    session: DbSession,
    actor: PageActor,
    owner: Param = ME,
    status: Param = "open",
    overdue: Param = "",
    offset: Param = "",
    limit: Param = "50",
) -> Response:
    size, skip = page_size(limit), whole_number("offset", offset) or 0
    filters = service.PromiseFilter(
        status=choice(status),
        member_id=whose(actor, owner),
        overdue=overdue == "1",
        offset=skip,
        limit=size + 1,
    )
    found = service.list_promises(session, filters)
    shown = found[:size]
    params = {"owner": owner, "status": status, "overdue": overdue, "limit": limit}
    members = list_members(session)
    return render(
        request,
        "promises_list.html",
        {
            "section": "promises",
            "title": "Promises",
            "params": params,
            "promises": shown,
            "names": customer_names(session, (p.customer_id for p in shown)),
            "members": members,
            "member_names": {m.id: m.name or m.email for m in members},
            "statuses": STATUSES,
            "pages": pager("/promises", params, skip, size, len(found) > size),
        },
    )
