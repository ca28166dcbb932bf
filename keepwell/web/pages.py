"""What every HTML page shares: templates, sign-in, CSRF, errors as pages, form helpers.

A page route is an ordinary FastAPI route on a `page_router()`: it depends on
`PageActor` (signed in, else a redirect to /sign-in?next=…), reads or writes through the
concept's service, and answers with `render(request, "template.html", {...})`.
Forms post back to the same app with the session's CSRF token (`csrf_field()` in a
template; htmx sends it as a header, set once in base.html). See docs/web.md and
notes on adding a page in the web framework notes.
"""

from __future__ import annotations

import importlib
import logging
import weakref
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from time import monotonic
from typing import Annotated, Any, TypeVar
from urllib.parse import quote, urlsplit

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.errors import Conflict, InvalidInput, KeepwellError, NotFound
from keepwell.web import limits
from keepwell.web.deps import (
    CSRF_COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    REFUSED_INPUT,
    SAFE_METHODS,
    Actor,
    DbSession,
    RetryingRoute,
    csrf_sent,
    current_actor,
)
from keepwell.web.errors import Forbidden, NotAuthenticated

log = logging.getLogger("keepwell.web")
T = TypeVar("T")

HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
SIGN_IN = "/sign-in"

# The header's navigation: (label, path, section). A page passes `section` to light
# its entry up.
NAV = (
    ("Today", "/", "today"),
    ("Customers", "/customers", "customers"),
    ("Promises", "/promises", "promises"),
    ("Cases", "/cases", "cases"),
    ("Tasks", "/tasks", "tasks"),
    ("Dashboards", "/dashboards", "dashboards"),
    ("Admin", "/admin", "admin"),
)


# --- templates ---------------------------------------------------------------------


def money(minor: int | None, currency: str = "") -> str:
    """12345 → "123.45" (with the currency after it when given); None → "—"."""
    if minor is None:
        return "—"
    text = f"{minor / 100:,.2f}"
    return f"{text} {currency}" if currency else text


def day(value: date | datetime | str | None) -> str:
    """A day as "Tue 24 Nov 2026"; None → "—"."""
    when = _parsed(value)
    return when if isinstance(when, str) else f"{when:%a %d %b %Y}"


def moment(value: datetime | str | None) -> str:
    """A time as "Tue 24 Nov 2026 14:05 UTC"; None → "—"."""
    when = _parsed(value)
    if isinstance(when, str) or not isinstance(when, datetime):
        return when if isinstance(when, str) else f"{when:%a %d %b %Y}"
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return f"{when.astimezone(UTC):%a %d %b %Y %H:%M} UTC"


def _parsed(value: date | datetime | str | None) -> date | datetime | str:
    """A date or time; an ISO string read as one; what cannot be read, as text."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def ago(value: date | datetime | None) -> str:
    """How long ago, in days: "today", "yesterday", "12 days ago", "in 3 days"."""
    if value is None:
        return "never"
    then = value.date() if isinstance(value, datetime) else value
    days = (clock.today() - then).days
    if days == 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days == -1:
        return "tomorrow"
    return f"{days} days ago" if days > 0 else f"in {-days} days"


def percent(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{100 * value:.{digits}f} %"


def csrf_field(request: Request) -> Markup:
    """The hidden form field with the session's CSRF token (every POST form has one)."""
    token = request.cookies.get(CSRF_COOKIE, "")
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, token)


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(money=money, day=day, moment=moment, ago=ago, percent=percent)
    env.globals.update(nav=NAV, csrf_header=CSRF_HEADER)
    return env


templates = _environment()


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """The template rendered with the page's context.

    Every template also sees `request`, `actor` (the signed-in member, or None),
    `csrf_token`, `csrf_field` (call it in a form: `{{ csrf_field() }}`), `htmx` (whether
    htmx asked: render only the part it swaps), `today`, `nav` and `section`.
    """
    values: dict[str, Any] = {
        "request": request,
        "actor": getattr(request.state, "actor", None),
        "csrf_token": request.cookies.get(CSRF_COOKIE, ""),
        "csrf_field": lambda: csrf_field(request),
        "htmx": is_htmx(request),
        "today": clock.today(),
        "section": "",
        "status_line": getattr(request.state, "status_line", None),
    }
    values.update(context or {})
    html = templates.get_template(template).render(values)
    response = HTMLResponse(html, status_code=status, headers=dict(headers or {}))
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- who is asking -----------------------------------------------------------------


class SignInRequired(KeepwellError):
    """Not signed in: the page answers with a redirect to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__("sign in first")
        self.next_path = next_path


def safe_next(value: str | None, default: str = "/") -> str:
    """Where to go after signing in (or after a form): only a path on this site.

    Refuses absolute URLs, scheme-relative ones (//host), backslashes (browsers read
    `/\\host` as a host), control characters and anything not starting with one "/".
    """
    if not value or len(value) > 2000:
        return default
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def sign_in_url(next_path: str) -> str:
    path = safe_next(next_path)
    return SIGN_IN if path == "/" else f"{SIGN_IN}?next={quote(path, safe='/')}"


def signed_in_member(
    request: Request, session: DbSession, csrf: Annotated[str, Depends(csrf_sent)]
) -> Actor:
    """The signed-in member of any role (by session cookie, or a bearer token); else
    SignInRequired. A write needs the session's CSRF token (the form field or htmx's
    header)."""
    try:
        actor = current_actor(request, session, csrf)
    except NotAuthenticated:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        came_from = request.headers.get("HX-Current-URL") or request.headers.get("referer")
        if is_htmx(request) or request.method not in SAFE_METHODS:
            # back to the page the browser shows, not to the fragment or the form's target
            parts = urlsplit(came_from or "")
            here = safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))
        raise SignInRequired(here) from None
    request.state.actor = actor
    return actor


AnyRoleActor = Annotated[Actor, Depends(signed_in_member)]


def page_actor(request: Request, actor: AnyRoleActor) -> Actor:
    """Every page: signed in, and (as in the API) a viewer reads but never writes."""
    if request.method not in SAFE_METHODS and not actor.can_write:
        raise Forbidden(f"a {actor.role} can read but not change anything")
    return actor


PageActor = Annotated[Actor, Depends(page_actor)]


# --- routes, and errors as pages ---------------------------------------------------


class PageRoute(RetryingRoute):
    """A page route: retried like an API write when it lost a race, and its errors
    answered as pages (not JSON): not signed in → the sign-in page; not found, not
    allowed, bad input → a short page that says so."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            request.state.refused_input = await limits.form_refusal(request)
            try:
                return await handler(request)
            except sa.exc.DataError as exc:  # e.g. text PostgreSQL cannot compare or store
                log.warning("value refused by the database: %s", exc.orig)
                refused = request.state.refused_input
                reason = (
                    f"{refused.field}: {refused.reason}"
                    if refused is not None
                    else "a value is out of the range the database stores"
                )
                return error_page(request, 422, "That did not work", reason)
            except (SignInRequired, NotAuthenticated) as exc:
                target = sign_in_url(getattr(exc, "next_path", "/"))
                if is_htmx(request):  # htmx follows this header with a full page load
                    return Response(status_code=204, headers={"HX-Redirect": target})
                return RedirectResponse(target, status_code=303)
            except Forbidden as exc:
                return error_page(request, 403, "Not allowed", str(exc))
            except NotFound as exc:
                return error_page(request, 404, "Not found", str(exc))
            except Conflict as exc:  # before InvalidInput, which it is a kind of
                return error_page(request, 409, "Changed meanwhile", exc.reason)
            except InvalidInput as exc:
                return error_page(request, 422, "That did not work", f"{exc.field}: {exc.reason}")
            except RequestValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'request'}: "
                    f"{e.get('msg', 'invalid')}"
                    for e in exc.errors()
                )
                return error_page(request, 422, "That did not work", problems)

        return run


def page_router(*, prefix: str = "") -> APIRouter:
    """A router of pages: not in the API's OpenAPI schema, errors answered as pages.

    Put `actor: PageActor` (and `session: DbSession`) in each route's parameters.
    """
    return APIRouter(prefix=prefix, include_in_schema=False, route_class=PageRoute)


def error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    """A short page saying what went wrong, with a way back (works without JavaScript)."""
    referer = urlsplit(request.headers.get("referer", ""))
    back = safe_next(referer.path + (f"?{referer.query}" if referer.query else ""))
    context = {"title": title, "message": message, "back": back}
    return render(request, "error.html", context, status=status)


def done(request: Request, next_path: str | None = None, fallback: str = "/") -> RedirectResponse:
    """After a form posted without htmx: back to `next_path` (the form's `next` field) or
    the page it came from (the Referer), if on this site; a 303, so a reload does not
    post again."""
    referer = urlsplit(request.headers.get("referer", ""))
    came_from = referer.path + (f"?{referer.query}" if referer.query else "")
    return RedirectResponse(safe_next(next_path or came_from, fallback), status_code=303)


def attempt(session: Session, action: Callable[[], T]) -> tuple[T | None, InvalidInput | None]:
    """Run a service call in a savepoint: (its result, None), or (None, the refusal)
    with nothing of it written — so a form can show the error beside the field.

    A form that sent a field no form accepts (a NUL character in it: see
    limits.form_refusal) is refused here, before the call, as the API's schemas refuse it.
    """
    refused = session.info.get(REFUSED_INPUT)
    if isinstance(refused, InvalidInput):
        return None, refused
    try:
        with session.begin_nested():
            return action(), None
    except InvalidInput as exc:
        return None, exc


# --- reading form values -----------------------------------------------------------


def form_day(field: str, value: str | None, *, required: bool = True) -> date | None:
    """A YYYY-MM-DD form value (an <input type=date>), or InvalidInput naming the field."""
    text = (value or "").strip()
    if not text:
        if required:
            raise InvalidInput(field, "give a date (YYYY-MM-DD)")
        return None
    try:
        found = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(field, f"{text[:40]!r} is not a date (YYYY-MM-DD)") from None
    if not 1900 <= found.year <= 2199:
        raise InvalidInput(field, "give a day between 1900 and 2199")
    return found


def form_due(field: str, value: str | None, *, required: bool = True) -> datetime | None:
    """A due date from a form: the end of that day's business (17:00 UTC)."""
    found = form_day(field, value, required=required)
    return None if found is None else datetime.combine(found, time(17), UTC)


# --- the status line ---------------------------------------------------------------


@dataclass(frozen=True)
class StatusLine:
    level: str  # ok | warning | error
    text: str


STATUS_SECONDS = 30.0  # how long one diagnosis serves the status line
_status_cache: weakref.WeakKeyDictionary[Any, tuple[float, StatusLine | None]] = (
    weakref.WeakKeyDictionary()
)


def status_line(session: Session) -> StatusLine | None:
    """One line about the desk's jobs (when the playbooks last ran, a stuck outbox), from
    the same diagnosis as `keepwell doctor` (keepwell/ops/doctor.py) when it is there.

    Worked out at most every STATUS_SECONDS per database (the outbox's counts grow with
    its history): a page load does not pay for it each time."""
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)
    now = monotonic()
    cached = _status_cache.get(engine)
    if cached is not None and now - cached[0] < STATUS_SECONDS:
        return cached[1]
    found = _diagnosed(session)
    _status_cache[engine] = (now, found)
    return found


def _diagnosed(session: Session) -> StatusLine | None:
    try:
        doctor = importlib.import_module("keepwell.ops.doctor")
    except ImportError:
        return None
    try:
        with session.begin_nested():
            checks = list(doctor.desk_checks(session))
    except Exception:  # a broken status must not take the page with it
        log.exception("the status line failed")
        return None
    shown = [c for c in checks if c.level != "ok" or c.name == "playbooks"]
    if not shown:
        return None
    levels = ("ok", "warning", "error")
    worst = max((c.level for c in shown), key=lambda level: levels.index(level))
    parts = [
        c.message if c.message.lower().startswith(c.name) else f"{c.name}: {c.message}"
        for c in shown
    ]
    text = "; ".join(part[:1].upper() + part[1:] for part in parts)
    return StatusLine(worst, text)


# --- installing into the app -------------------------------------------------------


def install(app: Any, routers: list[APIRouter]) -> None:
    """Mount /static and include the concepts' page routers, in the order they are
    matched (called by create_app, which gathers them)."""
    from fastapi.staticfiles import StaticFiles

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_api_route("/api/docs", api_docs, methods=["GET"], include_in_schema=False)
    for router in routers:
        app.include_router(router)


API_DOCS = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Keepwell API</title>
<link rel="stylesheet" href="/static/swagger/swagger-ui.css">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/static/swagger/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script>
</body>
</html>
"""
# Swagger UI draws its icons from data: URLs; otherwise the pages' own policy.
API_DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)


def api_docs() -> HTMLResponse:
    """The API's interactive docs (Swagger UI, vendored from npm `swagger-ui-dist`),
    started by /static/api-docs.js rather than an inline script (the page's CSP)."""
    return HTMLResponse(API_DOCS, headers={"Content-Security-Policy": API_DOCS_POLICY})


__all__ = [
    "NAV",
    "AnyRoleActor",
    "PageActor",
    "PageRoute",
    "SignInRequired",
    "attempt",
    "done",
    "error_page",
    "form_day",
    "form_due",
    "is_htmx",
    "page_router",
    "render",
    "safe_next",
    "status_line",
]
