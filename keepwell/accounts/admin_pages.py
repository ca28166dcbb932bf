"""The admin pages (`/admin`, admins only): the team's members and roles, API tokens,
the audit trail and desk settings. Every change goes through the accounts and settings
services (audited by the session's hook) from a CSRF-protected form.

Other rooms add their admin pages (cadences: keepwell/customers/admin_pages.py) and a
line in SECTIONS, which the index page lists.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, Form, Query, Request, Response

from keepwell import jsontext
from keepwell.accounts import audit, service, tokens
from keepwell.accounts.models import ROLES, TeamMember
from keepwell.errors import InvalidInput, NotFound
from keepwell.settings import service as settings
from keepwell.web.deps import Actor, DbSession, for_update
from keepwell.web.errors import Forbidden
from keepwell.web.listing import whole_number
from keepwell.web.pages import PageActor, attempt, done, page_router, render
from keepwell.web.schemas import Id

pages = page_router()

# The admin index: (title, path, what it is for). Add a line for a new admin page;
# None as the path marks a section that is still to come.
SECTIONS: list[tuple[str, str | None, str]] = [
    ("Members and roles", "/admin/members", "Add team members, change roles, deactivate."),
    ("API tokens", "/admin/tokens", "Tokens for scripts and integrations: make, revoke."),
    ("Check-in cadences", "/admin/cadences", "How often each segment hears from us."),
    ("Audit trail", "/admin/audit", "Every change: who, when, what, before and after."),
    ("Desk settings", "/admin/settings", "Stored settings, as keys and JSON values."),
    ("Playbooks", "/admin/playbooks", "Follow-up rules: switch on and off, edit, preview, run."),
    ("SMTP settings", "/admin/smtp", "Outgoing e-mail: the server, a test message, the outbox."),
    # to come: feedback — its engineer gives it a path
    ("Feedback", None, "Survey answers and what was done about them (keepwell feedback …)."),
]
AUDIT_PAGE = 50
Small = Annotated[str, Form(max_length=320)]


def admin_actor(actor: PageActor) -> Actor:
    """An admin, signed in (else the sign-in page); anyone else: 403."""
    if actor.role != "admin":
        raise Forbidden("only an admin may see and change the desk's administration")
    return actor


AdminPage = Annotated[Actor, Depends(admin_actor)]


def admin_page(
    request: Request, template: str, title: str, *, status: int = 200, **context: Any
) -> Response:
    """An admin page: the Admin section lit up; 422 when it shows an `error`."""
    if context.get("error") is not None:
        status = 422
    return render(request, template, {"section": "admin", "title": title, **context}, status=status)


@pages.get("/admin")
def admin_index(request: Request, actor: AdminPage) -> Response:
    return admin_page(request, "admin_index.html", "Admin", sections=SECTIONS)


# --- members and roles -----------------------------------------------------------------


def _members(request: Request, session: DbSession, **extra: Any) -> Response:
    members = service.list_members(session)
    return admin_page(
        request, "admin_members.html", "Members and roles",
        rows=members, members=members, roles=ROLES, **extra,
    )  # fmt: skip


@pages.get("/admin/members")
def members_page(request: Request, session: DbSession, actor: AdminPage) -> Response:
    return _members(request, session)


@pages.post("/admin/members")
def add_member(
    request: Request,
    session: DbSession,
    actor: AdminPage,
    email: Small = "",
    name: Small = "",
    role: Annotated[str, Form(max_length=20)] = "member",
) -> Response:
    """A new member who can sign in; the generated password is shown once."""
    made, error = attempt(session, lambda: service.add_user(session, email, name=name, role=role))
    if made is None:
        return _members(request, session, error=error, form={"email": email, "name": name})
    member, password = made
    return _members(request, session, created=member, password=password)


@pages.post("/admin/members/password")
def change_password(
    request: Request,
    session: DbSession,
    actor: AdminPage,
    member: Small = "",
    tokens_choice: Annotated[str, Form(alias="tokens", max_length=10)] = "",
) -> Response:
    """A new, generated password for a member, shown once. Their browser sessions end;
    their API tokens are kept or revoked as the admin chose (no default: a choice).
    (Before /admin/members/{member_id}, which would take "password" for an id.)"""

    def change() -> tuple[TeamMember, str | None]:
        if not member.strip():
            raise InvalidInput("member", "choose the member")
        if tokens_choice not in ("keep", "revoke"):
            raise InvalidInput("tokens", "choose whether their API tokens are kept or revoked")
        try:
            found = service.find_member(session, member)
        except NotFound as exc:
            raise InvalidInput("member", str(exc)) from None
        return found, service.set_password(session, found, revoke_tokens=tokens_choice == "revoke")

    made, error = attempt(session, change)
    if made is None:
        return _members(request, session, error=error, password_form={"member": member})
    changed, password = made
    response = _members(
        request, session, password_set=changed, password=password,
        tokens_revoked=tokens_choice == "revoke",
    )  # fmt: skip
    response.headers["Cache-Control"] = "no-store"
    return response


@pages.post("/admin/members/{member_id}")
def change_member(
    member_id: Id,
    request: Request,
    session: DbSession,
    actor: AdminPage,
    role: Annotated[str, Form(max_length=20)] = "",
    active: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Change a member's role, or deactivate / reactivate them (`active` "0" / "1")."""
    member = for_update(session, TeamMember, member_id, "team member")
    if active not in ("", "0", "1"):
        raise InvalidInput("active", "give 0 or 1")
    _, error = attempt(
        session,
        lambda: service.update_member(
            session, member, role=role or None, active=None if active == "" else active == "1"
        ),
    )
    if error is not None:
        return _members(request, session, error=error)
    return done(request, "/admin/members")


# --- API tokens ------------------------------------------------------------------------


def _tokens(request: Request, session: DbSession, revoked: bool = False, **extra: Any) -> Response:
    members = service.list_members(session)
    return admin_page(
        request, "admin_tokens.html", "API tokens",
        rows=tokens.list_tokens(session, include_revoked=revoked), revoked=revoked,
        members=members, emails={m.id: m.email for m in members}, **extra,
    )  # fmt: skip


@pages.get("/admin/tokens")
def tokens_page(
    request: Request, session: DbSession, actor: AdminPage, revoked: bool = False
) -> Response:
    return _tokens(request, session, revoked)


@pages.post("/admin/tokens")
def create_token(
    request: Request,
    session: DbSession,
    actor: AdminPage,
    member: Small = "",
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """A new token; its secret is on this answer only (only its hash is stored)."""

    def make() -> tuple[Any, str]:
        if not member.strip():
            raise InvalidInput("member", "choose the member the token acts as")
        try:
            owner = service.find_member(session, member)
        except NotFound as exc:
            raise InvalidInput("member", str(exc)) from None
        return tokens.create_token(session, owner, name)

    made, error = attempt(session, make)
    if made is None:
        return _tokens(request, session, error=error)
    token, secret = made
    response = _tokens(request, session, created=token, secret=secret)
    response.headers["Cache-Control"] = "no-store"
    return response


@pages.post("/admin/tokens/{token_id}/revoke")
def revoke_token(token_id: Id, request: Request, session: DbSession, actor: AdminPage) -> Response:
    tokens.revoke_token(session, tokens.get_token(session, token_id))
    return done(request, "/admin/tokens")


# --- the audit trail -------------------------------------------------------------------

Param = Annotated[str, Query(max_length=64)]


@pages.get("/admin/audit")
def audit_page(
    request: Request,
    session: DbSession,
    actor: AdminPage,
    member: Param = "",
    table: Param = "",
    customer: Param = "",
    before: Param = "",
) -> Response:
    """The newest changes first, a page at a time (`before` continues: keyset)."""
    filters = audit.AuditFilter(
        customer_id=whole_number("customer", customer),
        member_id=whole_number("member", member),
        table=table or None,
        before=whole_number("before", before),
        limit=AUDIT_PAGE + 1,
    )
    found = audit.list_entries(session, filters)
    shown = found[:AUDIT_PAGE]
    params = {"member": member, "table": table, "customer": customer}
    members = service.list_members(session)
    return admin_page(
        request, "admin_audit.html", "Audit trail",
        rows=[(e, _changes(e)) for e in shown], params=params, members=members,
        emails={m.id: m.email for m in members}, tables=sorted(audit.AUDITED),
        next_before=shown[-1].id if len(found) > AUDIT_PAGE else None,
    )  # fmt: skip


def _changes(entry: Any) -> list[tuple[str, str, str]]:
    """(field, before, after) of an entry, short enough for a table."""
    before, after = entry.before or {}, entry.after or {}
    keys = sorted(set(before) | set(after))
    if entry.action == "update":
        keys = [k for k in keys if before.get(k) != after.get(k)]
    return [(k, _short(before.get(k)), _short(after.get(k))) for k in keys[:12]]


def _short(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:79] + "…"


# --- desk settings ---------------------------------------------------------------------


def _settings(request: Request, session: DbSession, **extra: Any) -> Response:
    stored = settings.get_many(session, "")
    shown = {k: json.dumps(v, ensure_ascii=False, indent=1) for k, v in sorted(stored.items())}
    return admin_page(request, "admin_settings.html", "Desk settings", settings=shown, **extra)


@pages.get("/admin/settings")
def settings_page(request: Request, session: DbSession, actor: AdminPage) -> Response:
    return _settings(request, session)


@pages.post("/admin/settings")
def put_setting(
    request: Request,
    session: DbSession,
    actor: AdminPage,
    key: Annotated[str, Form(max_length=200)] = "",
    value: Annotated[str, Form(max_length=70_000)] = "",
) -> Response:
    """Store a JSON value under a key (settings.put checks both, and audits it)."""

    def store() -> Any:
        parsed = jsontext.parse("value", value, hint="quote text")
        return settings.put(session, key.strip(), parsed)

    _, error = attempt(session, store)
    if error is not None:
        return _settings(request, session, error=error, form={"key": key, "value": value})
    return done(request, "/admin/settings")
