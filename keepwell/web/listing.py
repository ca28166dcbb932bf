"""What the list pages share: reading "whose" and page parameters from a query string,
the customers' names beside a page of rows, the links to the next page, and the page
itself (`PageList`: the service filter run for one page, rendered in `list.html`).

Lists never count the whole table: a page reads one row more than it shows to know
whether another page follows.

A concept's list page declares its own parameters and the filter they make; the rest is
shared (keepwell/tasks/pages.py):

    @dataclass(frozen=True)
    class TaskPage:
        kind: Param = ""
        ...
        def filter(self, asked: Whose) -> service.TaskFilter:
            return service.TaskFilter(**asked.filters, kind=self.kind.strip() or None, ...)

    TASKS = PageList("/tasks", "Tasks", "tasks_list.html", service.list_tasks, ...)

    @pages.get("/tasks")
    def task_list(request: Request, session: DbSession, asked: Asked, own: Sent[TaskPage]):
        return TASKS.page(request, session, asked, own)

Its template extends list.html and fills the blocks `filters` (its own fields), `columns`
(the table's header cells) and `row` (one row's cells, the row being `row`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, Protocol, TypeVar
from urllib.parse import urlencode

import sqlalchemy as sa
from fastapi import Depends, Query, Request, Response
from sqlalchemy.orm import Session

from keepwell.accounts.service import list_members
from keepwell.customers.models import Customer
from keepwell.errors import MAX_OFFSET, InvalidInput
from keepwell.web.deps import Actor
from keepwell.web.pages import PageActor, render

F = TypeVar("F")
F_co = TypeVar("F_co", covariant=True)

PAGE_SIZES = (25, 50, 100)  # a page reads one row more: within the services' limit
ME = "me"
ANYONE = "anyone"
ANY = "any"  # a status choice: every status


def choice(text: str) -> str | None:
    """A status-like parameter: "any" → None (every value), else the value itself."""
    return None if text in (ANY, "") else text


def whole_number(field: str, text: str) -> int | None:
    """A non-negative whole number from a query parameter; "" → None."""
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 12:
        raise InvalidInput(field, f"give a whole number, not {text[:40]!r}")
    return int(text)


def page_size(text: str) -> int:
    size = whole_number("limit", text) or 50
    if size not in PAGE_SIZES:
        raise InvalidInput("limit", f"use one of {', '.join(map(str, PAGE_SIZES))}")
    return size


def whose(actor: Actor, text: str) -> int | None:
    """The member a list is about: "me" → the signed-in member, "anyone" → None, else an
    id."""
    if text == ME:
        return actor.member_id
    return None if text == ANYONE else whole_number("owner", text)


def customer_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """Names of these customers (a page's worth), by id: one indexed read."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.execute(
        sa.select(Customer.id, Customer.name, Customer.email).where(Customer.id.in_(wanted))
    )
    return {cid: name or email or f"#{cid}" for cid, name, email in rows}


@dataclass(frozen=True)
class Pager:
    """Links to the first and the next page of an offset-paged list (None: no link)."""

    first: str | None
    next: str | None
    too_deep: bool


def pager(path: str, params: Mapping[str, str], offset: int, limit: int, more: bool) -> Pager:
    def link(new_offset: int) -> str:
        values = {**params, "offset": str(new_offset) if new_offset else ""}
        query = urlencode({k: v for k, v in values.items() if v != ""})
        return f"{path}?{query}" if query else path

    following = offset + limit
    can_follow = more and following <= MAX_OFFSET
    return Pager(
        first=link(0) if offset else None,
        next=link(following) if can_follow else None,
        too_deep=more and not can_follow,
    )


# --- a list page ---------------------------------------------------------------------

# A list page's parameters are text as a form sends it (a wrong one: a page that says
# which), not the API's typed parameters.
Param = Annotated[str, Query(max_length=100)]


@dataclass(frozen=True)
class Whose:
    """The parameters every "whose, which status, which page" list reads (the promises,
    cases and tasks lists), as sent, and what they mean for the service's filter."""

    actor: Actor
    owner: str
    status: str
    offset: int
    size: int
    limit: str  # as sent: the pages' links keep it

    @property
    def filters(self) -> dict[str, Any]:
        """The filter's status, member and window (one row more than a page)."""
        return {
            "status": choice(self.status),
            "member_id": whose(self.actor, self.owner),
            "offset": self.offset,
            "limit": self.size + 1,
        }


def whose_list(
    actor: PageActor,
    owner: Param = ME,
    status: Param = "open",
    offset: Param = "",
    limit: Param = "50",
) -> Whose:
    """Yours and open, 50 a page, unless the query string says otherwise."""
    size = page_size(limit)
    return Whose(actor, owner, status, whole_number("offset", offset) or 0, size, limit)


Asked = Annotated[Whose, Depends(whose_list)]


class PageParams(Protocol[F_co]):
    """A list page's own parameters (a dataclass of `Param` fields, read from the query
    string as sent), and the service's filter they make with the shared ones."""

    def filter(self, asked: Whose) -> F_co: ...


P = TypeVar("P", bound=PageParams[Any])
# A route's parameter `own: Sent[TaskPage]`: the dataclass's fields are query parameters.
Sent = Annotated[P, Depends()]


@dataclass(frozen=True)
class PageList(Generic[F]):
    """One list page: where it is, its title (and the navigation's section: the path's
    first part), its template, the service function that reads its filter, and what its
    template shows besides the rows (the statuses to choose from, …)."""

    path: str
    title: str
    template: str
    run: Callable[[Session, F], Sequence[Any]]
    choices: Mapping[str, Any] = field(default_factory=dict)

    def page(
        self, request: Request, session: Session, asked: Whose, own: PageParams[F]
    ) -> Response:
        """One page of the list: the filter run (one row more than shown, to know whether
        another page follows), the customers' and members' names, the links to the first
        and the next page; the page's own parameters are kept, as sent, in the form and
        the links."""
        found = self.run(session, own.filter(asked))
        shown = found[: asked.size]
        sent = {k: v for k, v in vars(own).items() if isinstance(v, str)}
        params = {"owner": asked.owner, "status": asked.status, **sent, "limit": asked.limit}
        members = list_members(session)
        context = {
            "section": self.path.strip("/").split("/")[0],
            "title": self.title,
            "path": self.path,
            "params": params,
            "rows": shown,
            "names": customer_names(session, (row.customer_id for row in shown)),
            "members": members,
            "member_names": {m.id: m.name or m.email for m in members},
            "pages": pager(self.path, params, asked.offset, asked.size, len(found) > asked.size),
            **self.choices,
        }
        return render(request, self.template, context)
