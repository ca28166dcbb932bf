"""The cases list (`/cases`): `service.CaseFilter`, as `GET /api/cases` and
`keepwell case list` use it; yours and open by default, newest first."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request, Response

from keepwell.cases import service
from keepwell.cases.models import SEVERITIES, STATUSES
from keepwell.web.deps import DbSession
from keepwell.web.listing import Asked, PageList, Param, Sent, Whose, choice
from keepwell.web.pages import page_router

pages = page_router()
CASES = PageList(
    "/cases", "Cases", "cases_list.html", service.list_cases,
    {"statuses": STATUSES, "severities": SEVERITIES},
)  # fmt: skip


@dataclass(frozen=True)
class CasePage:
    """The cases list's own parameters, besides whose, status and page."""

    severity: Param = "any"
    waiting: Param = ""

    def filter(self, asked: Whose) -> service.CaseFilter:
        waiting = self.waiting == "1"
        severity = choice(self.severity)
        return service.CaseFilter(
            **asked.filters, severity=severity, waiting_for_first_response=waiting
        )


@pages.get("/cases")
def case_list(request: Request, session: DbSession, asked: Asked, own: Sent[CasePage]) -> Response:
    return CASES.page(request, session, asked, own)
