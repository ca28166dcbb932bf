"""What every API route depends on: one transaction per request, who is asking, what
their role allows, and a retry when another writer got there first.

- Reads (GET, HEAD) run in a plain transaction; on SQLite they run beside the writer.
- Writes run in a write transaction from the start (on SQLite, BEGIN IMMEDIATE: they
  queue for the one writer's lock instead of failing with "database is locked").
- The transaction commits after the route returns and before the answer is sent, so a
  client never hears "done" for something that was not committed; any error rolls the
  whole request back.
- A write that finds its record changed by a concurrent request (a version conflict or,
  on PostgreSQL, a serialization failure or deadlock) is run again from the start, up to
  RETRIES times, unless the client named the version it expects (If-Match or
  `version`): then the answer is 409.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from keepwell import clock, db
from keepwell.accounts import audit, tokens
from keepwell.accounts.models import WRITERS as WRITER_ROLES
from keepwell.accounts.models import TeamMember
from keepwell.errors import Conflict, InvalidInput, NotFound
from keepwell.web import limits
from keepwell.web.errors import Forbidden, NotAuthenticated
from keepwell.web.schemas import ERRORS, MAX_ID

T = TypeVar("T")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_COOKIE = "keepwell_session"
CSRF_COOKIE = "keepwell_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
# session.info key: a form field the request sent that no form accepts (a NUL in it),
# for pages.attempt to show beside the form (limits.form_refusal)
REFUSED_INPUT = "keepwell.refused_input"
RETRIES = 5
WRITERS = frozenset(WRITER_ROLES)
REQUEST_TIMEOUT_MS = 30_000


@dataclass(frozen=True)
class Runtime:
    """What the app keeps between requests: the engine and its two kinds of sessions."""

    engine: Engine
    reader: sessionmaker[Session]
    writer: sessionmaker[Session]
    secure_cookies: bool
    # a writer that does not queue for SQLite's lock (db.SQLITE_WRITE_IF_FREE)
    writer_if_free: sessionmaker[Session]

    @classmethod
    def for_engine(cls, engine: Engine, *, secure_cookies: bool = True) -> Runtime:
        writing = engine.execution_options(**{db.SQLITE_WRITE: True})
        if_free = engine.execution_options(**{db.SQLITE_WRITE: db.SQLITE_WRITE_IF_FREE})
        return cls(
            engine=engine,
            reader=db.session_factory(engine),
            writer=db.session_factory(writing),
            secure_cookies=secure_cookies,
            writer_if_free=db.session_factory(if_free),
        )


def runtime(request: Request) -> Runtime:
    found: Runtime = request.app.state.keepwell
    return found


F = TypeVar("F", bound=Callable[..., Any])


def reads_only(endpoint: F) -> F:
    """Mark a POST route that changes nothing in the database (it sends a test e-mail,
    say): its transaction is a reader's, so on SQLite it does not hold the one writer's
    lock while it waits on something slow outside."""
    endpoint.keepwell_reads_only = True  # type: ignore[attr-defined]
    return endpoint


def _reading(request: Request) -> bool:
    """Whether this request's transaction only reads: a GET, or a route marked reads_only."""
    if request.method in SAFE_METHODS:
        return True
    return bool(getattr(request.scope.get("endpoint"), "keepwell_reads_only", False))


def request_session(request: Request) -> Iterator[Session]:
    """The request's transaction: committed when the route returns, else rolled back."""
    rt = runtime(request)
    factory = rt.reader if _reading(request) else rt.writer
    with factory() as session, session.begin():
        session.info[REFUSED_INPUT] = getattr(request.state, "refused_input", None)
        if session.bind is not None and session.bind.dialect.name == "postgresql":
            # no request holds the database longer than this (SQLite: the busy timeout)
            session.execute(sa.text(f"SET LOCAL statement_timeout = {REQUEST_TIMEOUT_MS}"))
        yield session


DbSession = Annotated[Session, Depends(request_session, scope="function")]


@dataclass(frozen=True)
class Actor:
    """Who is asking: a signed-in member, by token or by browser session."""

    member_id: int
    email: str
    role: str
    via: str  # "token:ID" or "session:ID"
    token_id: int | None = None
    session_id: int | None = None

    @property
    def can_write(self) -> bool:
        return self.role in WRITERS


async def csrf_sent(request: Request) -> str:
    """The CSRF token a browser sent with an unsafe request: the header, or the form field."""
    if request.method in SAFE_METHODS:
        return ""
    header = request.headers.get(CSRF_HEADER, "")
    if header:
        return header
    kind = request.headers.get("content-type", "")
    if request.cookies.get(SESSION_COOKIE) and kind.startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        try:
            form = await request.form()
        except Exception:  # a malformed form sends no token
            return ""
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


def current_actor(
    request: Request, session: DbSession, csrf: Annotated[str, Depends(csrf_sent)]
) -> Actor:
    """The member behind the bearer token or the session cookie (else 401)."""
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, secret = authorization.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise NotAuthenticated("give the header Authorization: Bearer TOKEN")
        token = tokens.token_for_secret(session, secret.strip())
        if token is None:
            raise NotAuthenticated("unknown or revoked token")
        member = session.get(TeamMember, token.member_id)
        if member is None or not member.active:
            raise NotAuthenticated("the token's member may no longer sign in")
        _note_token_use(request, session, token)
        actor = Actor(member.id, member.email, member.role, f"token:{token.id}", token.id)
    else:
        secret = request.cookies.get(SESSION_COOKIE, "")
        row = tokens.session_for_secret(session, secret) if secret else None
        if row is None:
            raise NotAuthenticated("sign in (POST /api/session) or send a bearer token")
        member = session.get(TeamMember, row.member_id)
        if member is None or not member.active:
            raise NotAuthenticated("this member may no longer sign in")
        if request.method not in SAFE_METHODS:
            _check_browser_write(request, row, csrf)
        actor = Actor(member.id, member.email, member.role, f"session:{row.id}", session_id=row.id)
    session.info["actor"] = audit.Actor(actor.member_id, actor.via)
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]


def _check_browser_write(request: Request, row: Any, csrf: str) -> None:
    """A write from a browser must carry the session's CSRF token (double submit: the
    cookie and the header or form field agree, and match the session) and, when the
    browser says where it comes from, come from this site."""
    origin = request.headers.get("origin")
    if origin is not None and origin != "null":
        host = request.headers.get("host", "")
        if origin.split("://", 1)[-1] != host:
            raise Forbidden("a write from another site", "origin")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not csrf or not tokens.same(csrf, cookie) or not tokens.csrf_matches(row, csrf):
        raise Forbidden(f"send the session's CSRF token ({CSRF_HEADER} or {CSRF_FIELD})", "csrf")


def _note_token_use(request: Request, session: Session, token: Any) -> None:
    """Keep the token's last-used time (to the minute, so most requests write nothing).

    A write notes it in the request's transaction. A read notes it in one of its own,
    to stay a read, and only if it can at once: while an import or a scoring run holds
    SQLite's one writer's lock (minutes, for a large file), the read is answered without
    waiting for it, and a later request notes the use.
    """
    now = clock.now()
    if not tokens.last_use_is_stale(token, now):
        return
    if not _reading(request):
        tokens.note_use(session, token.id, now)
        return
    try:
        with runtime(request).writer_if_free() as own, own.begin():
            tokens.note_use(own, token.id, now)
    except sa.exc.OperationalError as exc:
        if not db.sqlite_locked(exc):
            raise


def signed_in(request: Request, actor: CurrentActor) -> Actor:
    """Every API route but sign-in and health: signed in, and a viewer only reads."""
    if request.method not in SAFE_METHODS and not actor.can_write:
        raise Forbidden(f"a {actor.role} can read but not change anything")
    return actor


def admin(actor: CurrentActor) -> Actor:
    if actor.role != "admin":
        raise Forbidden("only an admin may do this")
    return actor


AdminActor = Annotated[Actor, Depends(admin)]


# --- retrying a write that lost a race ----------------------------------------------


class RetryingRoute(APIRoute):
    """Runs a write again (new transaction, fresh reads) when it lost a race.

    Every route of the app is one (pages too: web.pages.PageRoute), so this is also where
    what no route accepts is refused first (limits.check_request: a NUL in the query
    string or path, a JSON body nested too deep)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            await limits.check_request(request)
            attempt = 0
            while True:
                attempt += 1
                try:
                    return _versioned(request, await handler(request))
                except Exception as exc:
                    if (
                        request.method in SAFE_METHODS
                        or attempt >= RETRIES
                        or not _lost_a_race(exc)
                        or _names_a_version(request)
                    ):
                        raise
                    await asyncio.sleep(random.uniform(0, 0.02 * attempt))

        return run


def answer_with_version(request: Request, record: Any) -> None:
    """Answer this request with `record`'s version as the ETag, read when the route has
    returned (so after the change it made): what the next change sends as If-Match."""
    request.state.answer_version_of = record


def _versioned(request: Request, response: Response) -> Response:
    """The answer, with the ETag answer_with_version asked for (a success only)."""
    record = getattr(request.state, "answer_version_of", None)
    if record is not None and response.status_code in (200, 201):
        response.headers["ETag"] = etag(record.version)
    return response


def _lost_a_race(exc: Exception) -> bool:
    if isinstance(exc, StaleDataError | Conflict):
        return True
    if isinstance(exc, sa.exc.OperationalError | sa.exc.DBAPIError):
        code = getattr(exc.orig, "sqlstate", None)
        return code in ("40001", "40P01")  # serialization failure, deadlock
    return False


def _names_a_version(request: Request) -> bool:
    return "if-match" in request.headers or bool(getattr(request.state, "version_given", False))


def router(tag: str, *, prefix: str = "") -> APIRouter:
    """A router for one concept: signed in, viewers read only, errors documented, retries."""
    return APIRouter(
        prefix=prefix,
        tags=[tag],
        dependencies=[Depends(signed_in)],
        responses=ERRORS,
        route_class=RetryingRoute,
    )


# --- helpers the routes share -------------------------------------------------------


def acting_member(session: Session, actor: Actor) -> TeamMember:
    member = session.get(TeamMember, actor.member_id)
    if member is None:
        raise NotAuthenticated("this member no longer exists")
    return member


def acting(session: DbSession, actor: CurrentActor) -> TeamMember:
    """The signed-in member's own record: whom a change is recorded as made by."""
    return acting_member(session, actor)


Me = Annotated[TeamMember, Depends(acting)]


def member_by_id(session: Session, member_id: int | None, field: str) -> TeamMember | None:
    """The member a request names in `field` (None stays None); unknown is bad input."""
    if member_id is None:
        return None
    member = session.get(TeamMember, member_id)
    if member is None:
        raise InvalidInput(field, f"no team member #{member_id}")
    return member


def member_by_ref(session: Session, ref: str | None, field: str) -> TeamMember | None:
    """A member named by id or e-mail in a query parameter; unknown is bad input."""
    from keepwell.accounts.service import find_member

    if ref is None or not ref.strip():
        return None
    text = ref.strip()
    if text.isdigit() and not (text.isascii() and int(text) <= MAX_ID):
        raise InvalidInput(field, f"no team member {ref!r}")
    try:
        return find_member(session, text)
    except NotFound:
        raise InvalidInput(field, f"no team member {ref!r}") from None


def customer_by_id(session: Session, customer_id: int, field: str = "customer_id") -> Any:
    """The customer a request body names, locked for the write (unknown: bad input)."""
    from keepwell.customers.models import Customer

    customer = session.get(Customer, customer_id, with_for_update=True)
    if customer is None:
        raise InvalidInput(field, f"no customer #{customer_id}")
    return customer


def for_update(session: Session, model: type[T], record_id: int, what: str) -> T:
    """The record a write changes, and its customer, locked until the request commits.

    On PostgreSQL two writes of one record (or of one customer's derived columns, which
    every interaction moves) then wait for each other instead of one failing on a stale
    version; SQLite has one writer at a time anyway (FOR UPDATE is not sent there).
    Records first, customers last: the locks are always taken in that order.
    """
    from keepwell.customers.models import Customer

    found = db.get_or_raise(session, model, record_id, what, lock=True)
    customer_id = getattr(found, "customer_id", None)
    if customer_id is not None:
        session.get(Customer, customer_id, with_for_update=True)
    return found


def etag(version: int) -> str:
    return f'"v{version}"'


IfMatch = Annotated[
    str | None,
    Header(
        description='The version the change is made against, as its ETag ("v3"): '
        "409 if the record has moved on.",
        max_length=200,
    ),
]


def check_version(
    request: Request, kind: str, current: int, if_match: str | None, given: int | None = None
) -> None:
    """Refuse (409) a change made against another version than the stored one."""
    expected: int | None = given
    if if_match is not None and if_match.strip() != "*":
        text = if_match.strip().removeprefix("W/").strip('"').removeprefix("v")
        if not text.isdigit():
            raise InvalidInput("If-Match", 'give the ETag of the record, like "v3"')
        expected = int(text)
    if expected is None:
        return
    request.state.version_given = True
    if expected != current:
        raise Conflict(
            "version",
            f"this {kind} is at version {current}, not {expected}: "
            "someone changed it meanwhile; load it again",
        )
