"""/api/session, /api/me, /api/members, /api/tokens, /api/audit, /api/health."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import Field, StrictBool, ValidationError
from sqlalchemy.orm import Session

from keepwell import db
from keepwell.accounts import audit, auth, service, tokens
from keepwell.accounts.models import Role
from keepwell.accounts.schemas import (
    AuditEntryPublic,
    Health,
    MemberCreated,
    MemberPublic,
    PasswordChanged,
    SessionPublic,
    TokenCreated,
    TokenPublic,
)
from keepwell.errors import NotFound
from keepwell.web.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    AdminActor,
    CurrentActor,
    DbSession,
    Me,
    RetryingRoute,
    acting_member,
    member_by_id,
    router,
    runtime,
)
from keepwell.web.errors import Forbidden, NotAuthenticated, TooManyAttempts, body
from keepwell.web.records import ListQuery, api_list, named
from keepwell.web.schemas import ERRORS, ErrorBody, Id, Input, Short, text


class MemberCreate(Input):
    email: Annotated[str, text(320, min_length=3)]
    name: Short = ""
    role: Role = "member"
    password: Annotated[str | None, text(1024)] = None


class MemberUpdate(Input):
    name: Short | None = None
    role: Role | None = None
    active: bool | None = None


class PasswordChange(Input):
    password: Annotated[str | None, text(1024)] = None  # None: one is generated
    # required, true or false: whoever knew the old password may have made a token, but
    # a script using one stops working when it is revoked
    revoke_tokens: StrictBool


class SignInInput(Input):
    email: Annotated[str, text(320)]
    password: Annotated[str, text(1024)]


class TokenCreate(Input):
    name: Short = ""
    member_id: Id | None = None  # an admin may make one for another member


# --- public: health and signing in --------------------------------------------------

public = APIRouter(tags=["session"], route_class=RetryingRoute)


@public.get("/health", response_model=Health, tags=["health"])
def health(request: Request) -> Health:
    """Whether the server and its database answer (no sign-in needed)."""
    with runtime(request).reader() as session:
        session.execute(sa.text("SELECT 1"))
    return Health(status="ok", schema_revision=db.SCHEMA_REVISION)


def from_another_site(request: Request) -> bool:
    """Whether the browser says the request comes from another site: its `Origin` (or,
    without one, its `Referer`) names another host than this desk's. `Origin: null` (a
    sandboxed frame, a file, a redirect from elsewhere) counts as another site."""
    host = request.headers.get("host", "")
    origin = request.headers.get("origin")
    if origin is not None:
        return origin.split("://", 1)[-1] != host
    referer = request.headers.get("referer")
    return bool(referer) and urlsplit(referer).netloc != host


async def sign_in_input(request: Request) -> SignInInput:
    """The credentials, as JSON (`Content-Type: application/json`) and from this site.

    No form and no other type: a page on another site can post a form, or text that
    looks like JSON, to any address without asking — that would sign its visitor in
    as whoever the page chose (login CSRF). A JSON body from another site first needs
    the browser's permission (CORS), which this desk never gives."""
    if from_another_site(request):
        raise Forbidden("a sign-in from another site", "origin")
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != "application/json" and not kind.endswith("+json"):
        raise HTTPException(415, "send the credentials as JSON (Content-Type: application/json)")
    try:
        data: Any = json.loads(await request.body() or b"null")
        return SignInInput.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None
    except (ValueError, UnicodeDecodeError):
        raise RequestValidationError(
            [{"loc": ("body",), "msg": "send JSON with email and password"}]
        ) from None


# The schema written out in place: the body is read by a dependency, so FastAPI never
# lists SignInInput among the components a "$ref" could point to.
_SIGN_IN_BODY = {
    "required": True,
    "content": {"application/json": {"schema": SignInInput.model_json_schema()}},
}


@public.post(
    "/session",
    response_model=SessionPublic,
    responses={
        400: ERRORS[400],
        401: {"model": ErrorBody, "description": "Wrong e-mail or password"},
        403: {"model": ErrorBody, "description": "A sign-in from another site (Origin, Referer)"},
        415: {"model": ErrorBody, "description": "Not JSON"},
        422: ERRORS[422],
        429: {"model": ErrorBody, "description": "Too many failed sign-ins: wait Retry-After s"},
    },
    openapi_extra={"requestBody": _SIGN_IN_BODY},
)
async def sign_in(
    request: Request,
    response: Response,
    credentials: Annotated[SignInInput, Depends(sign_in_input)],
) -> Any:
    """Sign in with e-mail and password (JSON, from this site or from no browser at all):
    sets the session cookie (HttpOnly, Secure, SameSite=Lax) and the CSRF cookie; the
    CSRF token is also in the answer. The password is checked outside any transaction,
    one sign-in at a time per core pair (they wait their turn without holding anything)."""
    rt = runtime(request)
    ip = request.client.host if request.client else ""
    result = await auth.sign_in_in_turn(
        rt.reader, rt.writer, credentials.email, credentials.password, ip
    )
    if result.member is None:
        if result.throttled:
            raise TooManyAttempts(result.retry_after)
        headers = {"Retry-After": str(result.retry_after)} if result.retry_after else {}
        return body(401, "password", "wrong e-mail address or password", **headers)
    assert result.expires_at is not None
    set_session_cookies(request, response, result.secret, result.csrf)
    return SessionPublic(
        member=MemberPublic.model_validate(result.member),
        csrf_token=result.csrf,
        expires_at=result.expires_at,
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
def me(member: Me) -> MemberPublic:
    """The signed-in member."""
    return MemberPublic.model_validate(member)


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


@members.post("/members/{member_id}/password", response_model=PasswordChanged)
def change_password(
    member_id: Id, data: PasswordChange, session: DbSession, _: AdminActor
) -> PasswordChanged:
    """Set a member's password (admins only; without `password` one is generated and
    shown in the answer, once). Their browser sessions end; their API tokens are
    revoked when `revoke_tokens` is true — a choice the request must make."""
    member = service.find_member(session, member_id)
    generated = service.set_password(
        session, member, data.password, revoke_tokens=data.revoke_tokens
    )
    return PasswordChanged(
        member=MemberPublic.model_validate(member),
        password=generated,
        tokens_revoked=data.revoke_tokens,
    )


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


class AuditQuery(ListQuery[audit.AuditFilter]):
    """Who changed what, newest first: per customer, per member, per table."""

    customer_id: Annotated[Id | None, named("customer", "Changes of this customer's records.")] = (
        None
    )
    member_id: Annotated[Id | None, named("member", "Changes made by this member.")] = None
    table: Annotated[str | None, Field(max_length=64, pattern=r"^[a-z_]*$")] = None
    before: Annotated[Id | None, Field(description="Entries older than this entry id.")] = None
    limit: Annotated[int, Field(ge=1, le=audit.MAX_LIMIT)] = 50

    def filter(self, session: Session, **fixed: Any) -> audit.AuditFilter:
        """`table=` (empty): any table."""
        return super().filter(session, table=self.table or None, **fixed)


api_list(members, "/audit", AuditQuery, audit.list_entries, AuditEntryPublic, name="audit_list")
