"""The application factory: `create_app(engine)` is what `keepwell serve` runs."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from sqlalchemy.engine import Engine

from keepwell import __version__
from keepwell.web import errors, pages
from keepwell.web.deps import Runtime
from keepwell.web.headers import SecurityHeaders
from keepwell.web.limits import BodyLimit

API = "/api"


def create_app(engine: Engine, *, secure_cookies: bool = True) -> FastAPI:
    """The JSON API under /api/ (OpenAPI at /api/openapi.json, docs at /api/docs).

    `secure_cookies=False` lets a browser keep the session cookie over plain HTTP (a
    desk on a LAN without TLS); leave it on everywhere else.
    """
    from keepwell.accounts.api import members, public
    from keepwell.agenda.api import agenda
    from keepwell.cases.api import cases
    from keepwell.customers.api import customers
    from keepwell.feedback.api import feedback, surveys
    from keepwell.feedback.pages import public as survey_page
    from keepwell.loyalty.api import loyalty
    from keepwell.orders.api import orders
    from keepwell.outreach.api import links, outreach
    from keepwell.playbooks.api import playbooks
    from keepwell.promises.api import promises
    from keepwell.referrals.api import referrals
    from keepwell.reviews.api import reviews
    from keepwell.tasks.api import tasks
    from keepwell.touches.api import interactions

    app = FastAPI(
        title="Keepwell",
        version=__version__,
        description=(
            "The JSON API of a Keepwell desk. Send `Authorization: Bearer TOKEN` (make one "
            "with `keepwell token create EMAIL`), or sign in with POST /api/session. Errors "
            'are `{"detail": [{"field": …, "reason": …}]}`.'
        ),
        openapi_url=f"{API}/openapi.json",
        docs_url=None,  # served below with Swagger UI from /static, not a CDN
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.keepwell = Runtime.for_engine(engine, secure_cookies=secure_cookies)
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders)  # outermost of ours: the 413 carries them too
    errors.install(app)
    for part in (public, members, customers, orders, interactions, promises, cases, tasks, agenda):
        app.include_router(part, prefix=API)
    for part in (surveys, feedback):
        app.include_router(part, prefix=API)
    for part in (playbooks, outreach):
        app.include_router(part, prefix=API)
    for part in (reviews, referrals, loyalty):  # goals, account reviews, referrals, loyalty
        app.include_router(part, prefix=API)
    app.include_router(links)  # /u/{token} (unsubscribe), /ics/{token}.ics: token-guarded
    app.include_router(survey_page)  # GET/POST /s/{token}: the survey page, no account needed
    pages.install(app, page_routers())  # the HTML pages, /static, the API's docs (docs/web.md)
    return app


def page_routers() -> list[APIRouter]:
    """Every concept's page routers, in the order they are matched."""
    from keepwell.accounts.admin_pages import pages as admin
    from keepwell.accounts.pages import pages as accounts
    from keepwell.agenda.pages import pages as agenda
    from keepwell.cases.pages import pages as cases
    from keepwell.customers.admin_pages import pages as cadences
    from keepwell.customers.list_pages import pages as customer_list  # lists: before customers
    from keepwell.customers.pages import pages as customers
    from keepwell.outreach.admin_pages import pages as smtp_admin
    from keepwell.playbooks.admin_pages import pages as playbooks_admin
    from keepwell.promises.pages import pages as promises
    from keepwell.reports.pages import pages as dashboards
    from keepwell.tasks.pages import pages as tasks

    return [
        accounts, agenda, customer_list, customers, promises, cases, tasks, dashboards, admin,
        cadences, playbooks_admin, smtp_admin,
    ]  # fmt: skip
