"""Where a browser's CSRF token is read from (keepwell/web/deps.py, csrf_sent), on a real
Starlette request: the header, else the form field of a form sent with a session cookie.
A token client's form is never read for it, and a form that cannot be read sends none."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.types import Message

from keepwell.web import deps

FORM = "application/x-www-form-urlencoded"


def post(body: bytes, content_type: str, *, cookie: bool = True, header: str = "") -> Request:
    headers = [(b"content-type", content_type.encode())]
    if cookie:
        headers.append((b"cookie", f"{deps.SESSION_COOKIE}=secret".encode()))
    if header:
        headers.append((deps.CSRF_HEADER.lower().encode(), header.encode()))
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {"type": "http", "method": "POST", "headers": headers, "path": "/", "query_string": b""}
    return Request(scope, receive)


def csrf(request: Request) -> str:
    return asyncio.run(deps.csrf_sent(request))


def test_the_header_then_a_browser_forms_field() -> None:
    assert csrf(post(b"csrf_token=field", FORM, header="header")) == "header"
    assert csrf(post(b"csrf_token=field", FORM)) == "field"
    assert csrf(post(b'{"csrf_token": "field"}', "application/json")) == ""


def test_a_form_without_a_session_cookie_is_not_read() -> None:
    assert csrf(post(b"csrf_token=field", FORM, cookie=False)) == ""


def test_a_form_that_cannot_be_read_sends_no_token() -> None:
    assert csrf(post(b"--x\r\nbroken", "multipart/form-data")) == ""  # no boundary
