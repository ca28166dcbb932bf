"""What the list pages share: reading "whose" and page parameters from a query string,
the customers' names beside a page of rows, and the links to the next page.

Lists never count the whole table: a page reads one row more than it shows to know
whether another page follows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.orm import Session

from keepwell.customers.models import Customer
from keepwell.errors import MAX_OFFSET, InvalidInput
from keepwell.web.deps import Actor

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
