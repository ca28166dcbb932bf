"""Limits on what one request may send.

- A body too large is refused before it is read (`BodyLimit`, an ASGI middleware, so it
  sees the bytes as they arrive: a Content-Length over the limit is answered at once
  with 413, and a body sent without one (chunked) is cut off as soon as it passes the
  limit).
- `check_request`, run by every route before anything else (deps.RetryingRoute): a NUL
  character in the query string or the path, and a JSON body nested deeper than
  jsontext.MAX_DEPTH levels, are refused with 422 — before the body is parsed (a parser
  recurses) and before a query reaches the database (PostgreSQL refuses NUL in text).
- `form_refusal`: the first form field holding a NUL, which a page's form shows beside
  the field (pages.attempt), as the API's schemas refuse it (schemas.Input).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import ClientDisconnect, Request

from keepwell import jsontext
from keepwell.errors import InvalidInput

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
MAX_BODY_BYTES = 2 * 1024 * 1024  # a thousand orders in one bulk request is about 200 KiB

Scope = dict[str, Any]
Message = dict[str, Any]


class BodyLimit:
    def __init__(self, app: Any, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        seen = 0
        started = refused = False

        async def counted() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message: Message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # answer now, and tell the app the client is gone: whatever the app
                    # makes of that (it may call it a bad request), its answer is dropped
                    refused = True
                    if not started:
                        await self._refuse(send)
                    return {"type": "http.disconnect"}
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counted, tracked)

    async def _refuse(self, send: Any) -> None:
        body = json.dumps(
            {"detail": [{"field": "body", "reason": f"larger than {self.max_bytes:,} bytes"}]}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


# --- what no route accepts ---------------------------------------------------------------


def _name(text: str) -> str:
    """A parameter's name fit to show (a hostile one may hold anything)."""
    shown = text.replace("\x00", "")[:40]
    return shown if shown.isprintable() and shown else repr(text[:40])


def _is_json(request: Request) -> bool:
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return kind == "application/json" or kind.endswith("+json")


async def check_request(request: Request) -> None:
    """Refuse (InvalidInput: a 422) a NUL character in a query or path parameter, and a
    JSON body nested deeper than jsontext.MAX_DEPTH levels."""
    for name, value in [*request.query_params.multi_items(), *request.path_params.items()]:
        if "\x00" in name or (isinstance(value, str) and "\x00" in value):
            raise InvalidInput(_name(name), jsontext.NUL_REASON)
    if request.method in ("GET", "HEAD", "OPTIONS") or not _is_json(request):
        return
    try:
        body = await request.body()
    except ClientDisconnect:  # cut off by BodyLimit: its 413 is the answer
        return
    if jsontext.nested_too_deep(body):
        raise InvalidInput("body", "JSON " + jsontext.too_deep_reason())


async def form_refusal(request: Request) -> InvalidInput | None:
    """The first field of a posted form that holds a NUL character, refused (None: no
    such field, or no form)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    if not request.headers.get("content-type", "").startswith(FORM_TYPES):
        return None
    try:
        form = await request.form()
    except Exception:  # a malformed form: the route's own reading says so
        return None
    for name, value in form.multi_items():
        if "\x00" in name or (not isinstance(value, UploadFile) and "\x00" in value):
            return InvalidInput(_name(name), jsontext.NUL_REASON)
    return None
