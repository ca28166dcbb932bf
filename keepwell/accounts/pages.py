"""The sign-in page and signing out: the same accounts, throttle and cookies as the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from keepwell.accounts import auth, tokens
from keepwell.accounts.api import clear_session_cookies, from_another_site, set_session_cookies
from keepwell.web.deps import SESSION_COOKIE, DbSession, runtime
from keepwell.web.pages import SIGN_IN, AnyRoleActor, page_router, render, safe_next

pages = page_router()

Text = Annotated[str, Form(max_length=1024)]


@pages.get(SIGN_IN)
def sign_in_page(request: Request, next: Annotated[str, Query(max_length=2000)] = "/") -> Response:
    return render(request, "sign_in.html", {"next": safe_next(next), "email": ""})


@pages.post(SIGN_IN)
async def sign_in(
    request: Request,
    email: Text = "",
    password: Text = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the password (throttled after failures, like POST /api/session), start a
    browser session and go where the member was going. Only from this site's own page
    (Origin, else Referer): another site's form cannot sign a visitor in as someone."""
    target = safe_next(next)
    context = {"next": target, "email": email}
    if from_another_site(request):
        return render(request, "sign_in.html", {**context, "error": "a sign-in from another site"},
                      status=403)  # fmt: skip
    if not email.strip() or not password:
        error = "Give your e-mail address and your password."
        return render(request, "sign_in.html", {**context, "error": error}, status=422)
    rt = runtime(request)
    ip = request.client.host if request.client else ""
    result = await auth.sign_in_in_turn(rt.reader, rt.writer, email, password, ip)
    if result.member is None:
        if result.throttled:
            error = f"Too many failed sign-ins: try again in {result.retry_after} seconds."
            headers = {"Retry-After": str(result.retry_after)}
            return render(request, "sign_in.html", {**context, "error": error}, status=429,
                          headers=headers)  # fmt: skip
        error = "Wrong e-mail address or password."
        if result.retry_after:
            error += f" Wait {result.retry_after} seconds before the next try."
        return render(request, "sign_in.html", {**context, "error": error}, status=401)
    response = RedirectResponse(target, status_code=303)
    set_session_cookies(request, response, result.secret, result.csrf)
    return response


@pages.post("/sign-out")
def sign_out(request: Request, session: DbSession, _: AnyRoleActor) -> Response:
    """End this browser session (the CSRF token is checked: no one signs you out from
    another site)."""
    row = tokens.session_for_secret(session, request.cookies.get(SESSION_COOKIE, ""))
    if row is not None:
        tokens.end_session(session, row)
    response = RedirectResponse(SIGN_IN, status_code=303)
    clear_session_cookies(request, response)
    return response
