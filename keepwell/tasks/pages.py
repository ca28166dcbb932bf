"""The tasks list (`/tasks`): `service.TaskFilter`, as `GET /api/tasks` and
`keepwell task list` use it; yours and open by default, oldest due first."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

from keepwell.accounts.service import list_members
from keepwell.tasks import service
from keepwell.tasks.models import STATUSES
from keepwell.web.deps import DbSession
from keepwell.web.listing import ME, choice, customer_names, page_size, pager, whole_number, whose
from keepwell.web.pages import PageActor, form_day, page_router, render

pages = page_router()
Param = Annotated[str, Query(max_length=100)]


@pages.get("/tasks")
def task_list(
    request: Request,
    session: DbSession,
    actor: PageActor,
    owner: Param = ME,
    status: Param = "open",
    kind: Param = "",
    due_by: Param = "",
    snoozed: Param = "",
    offset: Param = "",
    limit: Param = "50",
) -> Response:
    size, skip = page_size(limit), whole_number("offset", offset) or 0
    filters = service.TaskFilter(
        status=choice(status),
        member_id=whose(actor, owner),
        kind=kind.strip() or None,
        due_on_or_before=form_day("due_by", due_by, required=False),
        include_snoozed=snoozed == "1",
        offset=skip,
        limit=size + 1,
    )
    found = service.list_tasks(session, filters)
    shown = found[:size]
    params = {
        "owner": owner, "status": status, "kind": kind, "due_by": due_by, "snoozed": snoozed,
        "limit": limit,
    }  # fmt: skip
    members = list_members(session)
    return render(
        request,
        "tasks_list.html",
        {
            "section": "tasks",
            "title": "Tasks",
            "params": params,
            "tasks": shown,
            "names": customer_names(session, (t.customer_id for t in shown)),
            "members": members,
            "member_names": {m.id: m.name or m.email for m in members},
            "statuses": STATUSES,
            "pages": pager("/tasks", params, skip, size, len(found) > size),
        },
    )
