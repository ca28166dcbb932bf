"""What the API's record routes share, so that a concept declares its routes and writes
no plumbing: the record an action changes, the version its answer carries, and a list
whose query parameters are declared once.

An action (`POST /api/promises/{promise_id}/keep`) takes the record as a dependency: it is
found by the path's id (404), locked for the request, checked against If-Match (409),
and the answer carries the version the action leaves as its ETag:

    LockedPromise = Annotated[Promise, Depends(locked(Promise, "promise"))]

    @promises.post("/promises/{promise_id}/keep", response_model=PromisePublic)
    def keep_promise(
        promise: LockedPromise, session: DbSession, data: KeepInput = KeepInput()
    ) -> PromisePublic:
        service.complete_promise(session, promise, outcome=data.outcome, at=data.at)
        return PromisePublic.model_validate(promise)

A list (`GET /api/promises`) is a `ListQuery`: its fields are the service filter's
fields (the API's own name, where it differs, as an alias), its docstring the
operation's description; `api_list` adds the route:

    class PromiseQuery(ListQuery[service.PromiseFilter]):
        '''Promises, soonest due first.'''

        status: Status | None = None
        member_id: Annotated[Id | None, Field(alias="owner")] = None
        limit: Annotated[int, Field(ge=1, le=service.MAX_LIMIT)] = 50

    api_list(promises, "/promises", PromiseQuery, service.list_promises, PromisePublic)

A list with an answer of its own shape (customers: a page with `next_after`) takes the
query model as its parameter (`query: FromQuery[CustomerQuery]`) and calls `listed`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, Protocol, TypeVar

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from keepwell.web.deps import (
    DbSession,
    IfMatch,
    answer_with_version,
    check_version,
    etag,
    for_update,
    member_by_ref,
)
from keepwell.web.schemas import Id


class Versioned(Protocol):
    """A record that counts its changes (SQLAlchemy's version counter)."""

    @property
    def version(self) -> int: ...


V = TypeVar("V", bound=Versioned)
A = TypeVar("A")
F = TypeVar("F")
O = TypeVar("O", bound=BaseModel)  # noqa: E741


# --- actions on one record ------------------------------------------------------------


def locked(
    model: type[V], what: str, *, id_param: str | None = None, if_match: bool = True
) -> Callable[..., V]:
    """A dependency: the record the path's id names (`{promise_id}`: the last word of
    `what` and `_id`, else `id_param`), locked until the request commits (with its
    customer: deps.for_update), at the version the `If-Match` header names, and the
    answer carries its version (after the change) as the ETag; unless `if_match` is
    False: then the route takes no If-Match and answers no ETag.

    No such record: 404 (`no promise #7`). If-Match naming another version: 409, and
    the request is not retried (deps.RetryingRoute); one that is no ETag: 422.
    """
    name = id_param or f"{what.split()[-1]}_id"

    def load(request: Request, session: Session, **given: Any) -> V:
        record = for_update(session, model, given[name], what)
        if if_match:
            check_version(request, what, record.version, given["if_match"])
            answer_with_version(request, record)
        return record

    # FastAPI reads a dependency's parameters from its signature: the path parameter
    # carries the route's own name, so the signature is written out here.
    keyword = inspect.Parameter.KEYWORD_ONLY
    parameters = [
        inspect.Parameter("request", keyword, annotation=Request),
        inspect.Parameter("session", keyword, annotation=DbSession),
        inspect.Parameter(name, keyword, annotation=Id),
    ]
    if if_match:
        parameters.append(inspect.Parameter("if_match", keyword, annotation=IfMatch, default=None))
    load.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    load.__name__ = f"locked_{name.removesuffix('_id')}"
    return load


def check_sent_version(request: Request, what: str, record: Versioned, given: int | None) -> None:
    """A change's own `version` field (a PATCH body's), checked as If-Match is (409) when
    the request sent no If-Match naming one: If-Match, when sent, is what counts."""
    if_match = request.headers.get("if-match")
    if if_match is None or if_match.strip() == "*":
        check_version(request, what, record.version, None, given)


def versioned(response: Response, record: Versioned, answer: A) -> A:
    """The answer about `record`, its version as the ETag (what If-Match sends back)."""
    response.headers["ETag"] = etag(record.version)
    return answer


# --- lists --------------------------------------------------------------------------


_NAMES_A_MEMBER = "names a team member"
# A parameter naming a team member by id or e-mail (unknown: 422 naming the parameter);
# the filter gets the member's id.
MemberRef = Annotated[str | None, _NAMES_A_MEMBER, Field(max_length=320)]


def named(alias: str, description: str | None = None) -> Any:
    """A list parameter's API name where it differs from its filter field's (`owner` for
    `member_id`), and what the schema says of it."""
    return Field(alias=alias, description=description)


class ListQuery(BaseModel, Generic[F]):
    """A list's query parameters, declared once: a subclass of `ListQuery[XFilter]` whose
    fields are the service filter's fields of the same names (an alias gives the API's
    name where it differs: `owner` for `member_id`), so the filter is built, and checks
    itself, with no code of the list's own."""

    def filter(self, session: Session, **fixed: Any) -> F:
        """The service's filter from these parameters (a `MemberRef` as the member's id)
        and `fixed` values (a path's id; a subclass may override this to add one)."""
        values = self.model_dump()
        for name, info in type(self).model_fields.items():
            if _NAMES_A_MEMBER in info.metadata and name not in fixed:
                member = member_by_ref(session, values[name], info.alias or name)
                values[name] = member.id if member is not None else None
        made: F = filter_type(type(self))(**{**values, **fixed})
        return made


def filter_type(query: type[ListQuery[Any]]) -> Callable[..., Any]:
    """XFilter, of a `ListQuery[XFilter]` subclass."""
    for base in query.__mro__:
        meta = getattr(base, "__pydantic_generic_metadata__", None)
        if meta and meta["origin"] is ListQuery and meta["args"]:
            found: Callable[..., Any] = meta["args"][0]
            return found
    raise TypeError(f"{query.__name__} is no ListQuery[SomeFilter]")


Q = TypeVar("Q", bound=ListQuery[Any])
# A route's parameter `query: FromQuery[PromiseQuery]`: the model's fields are the
# query parameters (each one documented in the OpenAPI schema as if written out).
FromQuery = Annotated[Q, Query()]


class Describe(Protocol[O]):
    """Rows described at once: (session, rows) → the answers."""

    def __call__(self, session: Session, rows: Sequence[Any], /) -> list[O]: ...


def api_list(
    router: APIRouter,
    path: str,
    query: type[ListQuery[F]],
    run: Callable[[Session, F], Sequence[Any]],
    out: type[O],
    *,
    describe: Describe[O] | None = None,
    name: str | None = None,
) -> None:
    """`GET path`: the list `run` reads with the filter `query` declares, answered as a
    JSON list of `out` (`describe`: a function that describes the rows at once). The
    query model's docstring is the operation's description; its name is `run`'s
    (`list_promises`), unless `name` says otherwise."""

    def endpoint(session: Session, asked: ListQuery[F]) -> list[O]:
        return listed(session, asked, run, describe or out)

    keyword = inspect.Parameter.KEYWORD_ONLY
    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("session", keyword, annotation=DbSession),
            inspect.Parameter("asked", keyword, annotation=Annotated[query, Query()]),
        ]
    )
    router.add_api_route(
        path,
        endpoint,
        methods=["GET"],
        response_model=list[out],  # type: ignore[valid-type]
        name=name or run.__name__,
        description=inspect.cleandoc(query.__doc__ or ""),
    )


# A list a service function reads from keyword arguments rather than a filter object:
# `ListQuery[Keywords]`, run by `keywords(service.promoters_to_ask)`.
Keywords = dict[str, Any]


def keywords(run: Callable[..., Sequence[Any]]) -> Callable[[Session, Keywords], Sequence[Any]]:
    """`run(session, **values)`, under `run`'s name (the operation's, in api_list)."""

    def call(session: Session, values: Keywords) -> Sequence[Any]:
        return run(session, **values)

    call.__name__ = run.__name__
    return call


def listed(
    session: Session,
    query: ListQuery[F],
    run: Callable[[Session, F], Sequence[Any]],
    out: type[O] | Describe[O],
) -> list[O]:
    """Run the list `query` asks for and answer each row as `out`: a model read from the
    row's attributes, or a function that describes the rows at once (with names from
    other tables, in one query rather than one a row)."""
    rows = run(session, query.filter(session))
    if isinstance(out, type):
        return [out.model_validate(row, from_attributes=True) for row in rows]
    return out(session, rows)
