"""The customers list (`/customers`) and its CSV export (`/customers/export.csv`).

Both read `service.CustomerFilter` — the same filter as `GET /api/customers` — from the
same query parameters; the page shows one page of it, the export streams all of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from keepwell import clock, csvout
from keepwell.accounts.service import list_members
from keepwell.customers import service
from keepwell.errors import MAX_OFFSET, InvalidInput
from keepwell.scoring.models import STAGES
from keepwell.web.deps import DbSession, runtime
from keepwell.web.listing import whole_number
from keepwell.web.pages import PageActor, page_router, render

pages = page_router()

# Health bands offered by the page: (value, label, lowest, highest).
HEALTH_BANDS = (
    ("poor", "Poor (0–39)", 0, 39),
    ("fair", "Fair (40–69)", 40, 69),
    ("good", "Good (70–100)", 70, 100),
)
SORT_LABELS = {
    "id": "Oldest record first",
    "name": "Name",
    "-revenue": "Revenue, most first",
    "-last_order": "Last order, latest first (buyers only)",
    "health": "Health, lowest first (scored only)",
}
PAGE_SIZES = (25, 50, 100)


Param = Annotated[str, Query(max_length=300)]


@dataclass(frozen=True)
class CustomerPage:
    """The list's query parameters as a form sends them (empty text: not given)."""

    q: Param = ""
    owner: Param = ""
    segment: Param = ""
    stage: Param = ""
    health: Param = ""
    quiet: Param = ""
    sort: Param = "id"
    after: Param = ""
    offset: Param = ""
    limit: Param = "50"

    def filters(self, *, page: bool = True) -> service.CustomerFilter:
        """The service's filter (InvalidInput naming the parameter when one is wrong)."""
        band = next((b for b in HEALTH_BANDS if b[0] == self.health), None)
        if self.health and band is None:
            raise InvalidInput("health", f"use one of poor, fair, good, not {self.health!r}")
        limit = whole_number("limit", self.limit) or 50
        if page and limit not in PAGE_SIZES:
            raise InvalidInput("limit", f"use one of {', '.join(map(str, PAGE_SIZES))}")
        return service.CustomerFilter(
            owner_id=whole_number("owner", self.owner),
            segment=self.segment.strip() or None,
            search=self.q.strip() or None,
            quiet=self.quiet in ("1", "on", "true"),
            stage=self.stage or None,
            health_min=band[2] if band else None,
            health_max=band[3] if band else None,
            sort=self.sort or "id",
            after=whole_number("after", self.after) if page else None,
            offset=(whole_number("offset", self.offset) or 0) if page else 0,
            limit=limit,
        )

    def link(self, **changes: str) -> str:
        """This list's query string with `changes` (empty values left out)."""
        values = {**self.__dict__, **changes}
        return urlencode({k: v for k, v in values.items() if v and not (k == "sort" and v == "id")})


Asked = Annotated[CustomerPage, Depends()]


@pages.get("/customers")
def customer_list(request: Request, session: DbSession, actor: PageActor, asked: Asked) -> Response:
    """One page of customers: one more row is read than shown, to know whether another
    page follows (no count of the whole table)."""
    filters = asked.filters()
    probe = service.CustomerFilter(**{**filters.__dict__, "limit": filters.limit + 1})
    found = service.list_customers(session, probe)
    shown, more = found[: filters.limit], len(found) > filters.limit
    scores = service.latest_scores(session, [c.id for c in shown])
    members = list_members(session)
    next_link = None
    if more:
        if filters.sort == "id" and not filters.offset:
            next_link = asked.link(after=str(shown[-1].id))
        elif filters.offset + filters.limit <= MAX_OFFSET:
            next_link = asked.link(offset=str(filters.offset + filters.limit))
    context: dict[str, Any] = {
        "section": "customers",
        "title": "Customers",
        "asked": asked,
        "rows": shown,
        "scores": scores,
        "members": members,
        "member_names": {m.id: m.name or m.email for m in members},
        "stages": STAGES,
        "bands": HEALTH_BANDS,
        "sorts": SORT_LABELS,
        "sizes": PAGE_SIZES,
        "first_link": asked.link(after="", offset="")
        if (filters.after or filters.offset)
        else None,
        "next_link": next_link,
        "too_deep": more and next_link is None,
        "export_link": asked.link(after="", offset="", limit=""),
    }
    return render(request, "customers_list.html", context)


@pages.get("/customers/export.csv")
def customer_export(
    request: Request, session: DbSession, actor: PageActor, asked: Asked
) -> Response:
    """Every customer the list's filter matches, as CSV, streamed: the rows are read a
    thousand at a time in their own read transaction while the file is being sent."""
    filters = asked.filters(page=False)
    reader = runtime(request).reader

    def lines() -> Iterator[str]:
        with reader() as own, own.begin():
            yield from csvout.chunks(service.EXPORT_COLUMNS, service.export_rows(own, filters))

    name = f"customers-{clock.today().isoformat()}.csv"
    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
