"""The promises list (`/promises`): `service.PromiseFilter`, as `GET /api/promises` and
`keepwell promise list` use it; yours and open by default."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request, Response

from keepwell.promises import service
from keepwell.promises.models import STATUSES
from keepwell.web.deps import DbSession
from keepwell.web.listing import Asked, PageList, Param, Sent, Whose
from keepwell.web.pages import page_router

pages = page_router()
PROMISES = PageList(
    "/promises", "Promises", "promises_list.html", service.list_promises, {"statuses": STATUSES}
)


@dataclass(frozen=True)
class PromisePage:
    """The promises list's own parameter, besides whose, status and page."""

    overdue: Param = ""

    def filter(self, asked: Whose) -> service.PromiseFilter:
        return service.PromiseFilter(**asked.filters, overdue=self.overdue == "1")


@pages.get("/promises")
def promise_list(
    request: Request, session: DbSession, asked: Asked, own: Sent[PromisePage]
) -> Response:
    return PROMISES.page(request, session, asked, own)
