"""The cases list (`/cases`): `service.CaseFilter`, as `GET /api/cases` and
`keepwell case list` use it; yours and open by default, newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

from keepwell.accounts.service import list_members
from keepwell.cases import service
from keepwell.cases.models import SEVERITIES, STATUSES
from keepwell.web.deps import DbSession
from keepwell.web.listing import ME, choice, customer_names, page_size, pager, whole_number, whose
from keepwell.web.pages import PageActor, page_router, render

pages = page_router()
Param = Annotated[str, Query(max_length=40)]


@pages.get("/cases")
def case_list(
    request: Request,
    session: DbSession,
    actor: PageActor,
    owner: Param = ME,
    status: Param = "open",
    severity: Param = "any",
    waiting: Param = "",
    offset: Param = "",
    limit: Param = "50",
) -> Response:
    size, skip = page_size(limit), whole_number("offset", offset) or 0
    filters = service.CaseFilter(
        status=choice(status),
        member_id=whose(actor, owner),
        severity=choice(severity),
        waiting_for_first_response=waiting == "1",
        offset=skip,
        limit=size + 1,
    )
    found = service.list_cases(session, filters)
    shown = found[:size]
    params = {
        "owner": owner, "status": status, "severity": severity, "waiting": waiting,
        "limit": limit,
    }  # fmt: skip
    members = list_members(session)
    return render(
        request,
        "cases_list.html",
        {
            "section": "cases",
            "title": "Cases",
            "params": params,
            "cases": shown,
            "names": customer_names(session, (c.customer_id for c in shown)),
            "members": members,
            "member_names": {m.id: m.name or m.email for m in members},
            "statuses": STATUSES,
            "severities": SEVERITIES,
            "pages": pager("/cases", params, skip, size, len(found) > size),
        },
    )
