"""/api/session, /api/me, /api/members, /api/tokens, /api/audit, /api/health."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from keepwell import db
from keepwell.accounts import audit, auth, service, tokens
from keepwell.accounts.models import Role
from keepwell.errors import NotFound
from keepwell.web.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    AdminActor,
    CurrentActor,
    DbSession,
    RetryingRoute,
    acting_member,
    member_by_id,
    router,
    runtime,
)
from keepwell.web.errors import Forbidden, NotAuthenticated, TooManyAttempts, body
from keepwell.web.schemas import ERRORS, ErrorBody, Id, Input, Output, Short, text


class MemberPublic(Output):
    id: int
    email: str
    name: str
    role: str
    active: bool
    created_at: datetime
    last_sign_in_at: datetime | None


class MemberCreate(Input):
    email: Annotated[str, text(320, min_length=3)]
    name: Short = ""
    role: Role = "member"
    password: Annotated[str | None, text(1024)] = None


class MemberCreated(BaseModel):
    member: MemberPublic
    password: str | None = None  # the generated password, shown this once


class MemberUpdate(Input):
    name: Short | None = None
    role: Role | None = None
    active: bool | None = None


class SignInInput(Input):
    email: Annotated[str, text(320)]
    password: Annotated[str, text(1024)]


class SessionPublic(BaseModel):
    member: MemberPublic
    csrf_token: str  # send it back in X-CSRF-Token (or the csrf_token form field)
    expires_at: datetime


class TokenPublic(Output):
    id: int
    member_id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreate(Input):
    name: Short = ""
    member_id: Id | None = None  # an admin may make one for another member


class TokenCreated(BaseModel):
    token: str  # the secret, shown this once: send it as Authorization: Bearer …
    details: TokenPublic


class AuditEntryPublic(Output):
    id: int
    at: datetime
    member_id: int | None
    via: str
    action: str
    table_name: str
    record_id: str
    customer_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class Health(BaseModel):
    status: str
    schema_revision: str


# --- public: health and signing in --------------------------------------------------

public = APIRouter(tags=["session"], route_class=RetryingRoute)


@public.get("/health", response_model=Health, tags=["health"])
def health(request: Request) -> Health:
    """Whether the server and its database answer (no sign-in needed)."""
    with runtime(request).reader() as session:
        session.execute(sa.text("SELECT 1"))
    return Health(status="ok", schema_revision=db.SCHEMA_REVISION)


async def sign_in_input(request: Request) -> SignInInput:
    """The credentials, as JSON or as a form (a browser's sign-in page)."""
    kind = request.headers.get("content-type", "")
    try:
        if kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            data: Any = {k: v for k, v in form.items() if k in ("email", "password")}
        else:
            data = json.loads(await request.body() or b"null")
        return SignInInput.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None
    except (ValueError, UnicodeDecodeError, AssertionError):
        raise RequestValidationError(
            [{"loc": ("body",), "msg": "send JSON or a form with email and password"}]
        ) from None


_SIGN_IN_BODY = {
    "required": True,
    "content": {
        media: {"schema": {"$ref": "#/components/schemas/SignInInput"}}
        for media in ("application/json", "application/x-www-form-urlencoded")
    },
}


@public.post(
    "/session",
    response_model=SessionPublic,
    responses={
        400: ERRORS[400],
        401: {"model": ErrorBody, "description": "Wrong e-mail or password"},
        422: ERRORS[422],
        429: {"model": ErrorBody, "description": "Too many failed sign-ins: wait Retry-After s"},
    },
    openapi_extra={"requestBody": _SIGN_IN_BODY},
)
def sign_in(
    request: Request,
    response: Response,
    session: DbSession,
    credentials: Annotated[SignInInput, Depends(sign_in_input)],
) -> Any:
    """Sign in with e-mail and password: sets the session cookie (HttpOnly, Secure,
    SameSite=Lax) and the CSRF cookie; the CSRF token is also in the answer."""
    ip = request.client.host if request.client else ""
    result = auth.sign_in(session, credentials.email, credentials.password, ip)
    if result.member is None:  # the failure is counted: answer without rolling back
        if result.throttled:
            raise TooManyAttempts(result.retry_after)
        headers = {"Retry-After": str(result.retry_after)} if result.retry_after else {}
        return body(401, "password", "wrong e-mail address or password", **headers)
    row, secret, csrf = tokens.start_session(session, result.member)
    set_session_cookies(request, response, secret, csrf)
    return SessionPublic(
        member=MemberPublic.model_validate(result.member),
        csrf_token=csrf,
        expires_at=row.expires_at,
    )


@public.delete("/session", status_code=204, responses=ERRORS)
def sign_out(request: Request, session: DbSession, actor: CurrentActor) -> Response:
    """Sign out: this browser session ends (a token is revoked with DELETE /api/tokens/ID)."""
    if actor.session_id is None:
        raise NotAuthenticated("no browser session to end: tokens are revoked instead")
    row = tokens.session_for_secret(session, request.cookies.get(SESSION_COOKIE, ""))
    if row is not None:
        tokens.end_session(session, row)
    response = Response(status_code=204)
    clear_session_cookies(request, response)
    return response


def set_session_cookies(request: Request, response: Response, secret: str, csrf: str) -> None:
    """The session cookie (HttpOnly) and the CSRF cookie (readable by the page's script),
    SameSite=Lax, Secure unless the desk serves plain HTTP (the API's and the pages')."""
    secure = runtime(request).secure_cookies
    age = tokens.SESSION_DAYS * 86400
    response.set_cookie(
        SESSION_COOKIE, secret, max_age=age, httponly=True, secure=secure, samesite="lax"
    )
    response.set_cookie(CSRF_COOKIE, csrf, max_age=age, secure=secure, samesite="lax")


def clear_session_cookies(request: Request, response: Response) -> None:
    secure = runtime(request).secure_cookies
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, secure=secure, httponly=name == SESSION_COOKIE)


# --- the team ------------------------------------------------------------------------

members = router("members")


@members.get("/me", response_model=MemberPublic)
def me(session: DbSession, actor: CurrentActor) -> MemberPublic:
    """The signed-in member."""
    return MemberPublic.model_validate(acting_member(session, actor))


@members.get("/members", response_model=list[MemberPublic])
def list_members(session: DbSession) -> list[MemberPublic]:
    """The team, by name."""
    return [MemberPublic.model_validate(m) for m in service.list_members(session)]


@members.get("/members/{member_id}", response_model=MemberPublic)
def get_member(member_id: Id, session: DbSession) -> MemberPublic:
    return MemberPublic.model_validate(service.find_member(session, member_id))


@members.post("/members", response_model=MemberCreated, status_code=201)
def add_member(data: MemberCreate, session: DbSession, _: AdminActor) -> MemberCreated:
    """Add a member who can sign in (admins only); without a password one is generated
    and shown in the answer, once."""
    member, generated = service.add_user(
        session, data.email, name=data.name, role=data.role, password=data.password
    )
    return MemberCreated(member=MemberPublic.model_validate(member), password=generated)


@members.patch("/members/{member_id}", response_model=MemberPublic)
def change_member(
    member_id: Id, data: MemberUpdate, session: DbSession, _: AdminActor
) -> MemberPublic:
    """Change a member's name, role or whether they are active (admins only)."""
    member = service.update_member(
        session, service.find_member(session, member_id), **data.model_dump(exclude_unset=True)
    )
    return MemberPublic.model_validate(member)


# --- API tokens ----------------------------------------------------------------------


@members.get("/tokens", response_model=list[TokenPublic])
def list_tokens(
    session: DbSession,
    actor: CurrentActor,
    member: Annotated[Id | None, Query(description="An admin may list another's.")] = None,
    revoked: Annotated[bool, Query(description="Include revoked tokens.")] = False,
) -> list[TokenPublic]:
    """Your API tokens (an admin: anyone's, with `member`). Secrets are never shown again."""
    if member is not None and member != actor.member_id and actor.role != "admin":
        raise Forbidden("only an admin may list another member's tokens")
    found = tokens.list_tokens(session, member or actor.member_id, include_revoked=revoked)
    return [TokenPublic.model_validate(t) for t in found]


@members.post("/tokens", response_model=TokenCreated, status_code=201)
def create_token(data: TokenCreate, session: DbSession, actor: CurrentActor) -> TokenCreated:
    """A new API token acting as you (an admin may name another member): the secret is
    in the answer, this once."""
    owner = acting_member(session, actor)
    if data.member_id is not None and data.member_id != actor.member_id:
        if actor.role != "admin":
            raise Forbidden("only an admin may make a token for another member")
        found = member_by_id(session, data.member_id, "member_id")
        assert found is not None
        owner = found
    token, secret = tokens.create_token(session, owner, data.name)
    return TokenCreated(token=secret, details=TokenPublic.model_validate(token))


@members.delete("/tokens/{token_id}", response_model=TokenPublic)
def revoke_token(token_id: Id, session: DbSession, actor: CurrentActor) -> TokenPublic:
    """Revoke a token: it stops working at once. Your own, or anyone's for an admin."""
    token = tokens.get_token(session, token_id)
    if token.member_id != actor.member_id and actor.role != "admin":
        raise NotFound(f"no API token #{token_id}")
    return TokenPublic.model_validate(tokens.revoke_token(session, token))


# --- the audit trail -----------------------------------------------------------------


@members.get("/audit", response_model=list[AuditEntryPublic])
def audit_list(
    session: DbSession,
    customer: Annotated[Id | None, Query(description="Changes of this customer's records.")] = None,
    member: Annotated[Id | None, Query(description="Changes made by this member.")] = None,
    table: Annotated[str | None, Query(max_length=64, pattern=r"^[a-z_]*$")] = None,
    before: Annotated[Id | None, Query(description="Entries older than this entry id.")] = None,
    limit: Annotated[int, Query(ge=1, le=audit.MAX_LIMIT)] = 50,
) -> list[AuditEntryPublic]:
    """Who changed what, newest first: per customer, per member, per table."""
    filters = audit.AuditFilter(
        customer_id=customer, member_id=member, table=table or None, before=before, limit=limit
    )
    return [AuditEntryPublic.model_validate(e) for e in audit.list_entries(session, filters)]
