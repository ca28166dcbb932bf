"""The tasks list (`/tasks`): `service.TaskFilter`, as `GET /api/tasks` and
`keepwell task list` use it; yours and open by default, oldest due first."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request, Response

from keepwell.tasks import service
from keepwell.tasks.models import STATUSES
from keepwell.web.deps import DbSession
from keepwell.web.listing import Asked, PageList, Param, Sent, Whose
from keepwell.web.pages import form_day, page_router

pages = page_router()
TASKS = PageList("/tasks", "Tasks", "tasks_list.html", service.list_tasks, {"statuses": STATUSES})


@dataclass(frozen=True)
class TaskPage:
    """The tasks list's own parameters, besides whose, status and page."""

    kind: Param = ""
    due_by: Param = ""
    snoozed: Param = ""

    def filter(self, asked: Whose) -> service.TaskFilter:
        return service.TaskFilter(
            **asked.filters,
            kind=self.kind.strip() or None,
            due_on_or_before=form_day("due_by", self.due_by, required=False),
            include_snoozed=self.snoozed == "1",
        )


@pages.get("/tasks")
def task_list(request: Request, session: DbSession, asked: Asked, own: Sent[TaskPage]) -> Response:
    return TASKS.page(request, session, asked, own)
