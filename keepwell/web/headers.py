"""The security headers every answer carries: pages, the API, errors, static files.

- Content-Security-Policy: a page runs only the desk's own scripts and styles from
  /static (htmx and keepwell.js; no inline script, no inline style, no eval), talks
  only to its own desk, posts forms only to it, and cannot be framed. Any other answer
  (JSON, CSV, a calendar, a file) loads nothing at all.
- X-Frame-Options: DENY (frame-ancestors for browsers without CSP),
  X-Content-Type-Options: nosniff (a file is never run as what it is not),
  Referrer-Policy: same-origin (the desk's own addresses never leave it in a Referer;
  its forms still see where they came from).
- Strict-Transport-Security when the request came over HTTPS (directly, or through a
  proxy the server was told to trust: `keepwell serve --forwarded-allow-ips`).

A route that needs another policy sets its own header, which is kept: the survey page
(inline styles, no script at all), the unsubscribe page, the API's docs (Swagger UI's
inline styles).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

from starlette.responses import Response

PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
NOTHING_POLICY = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
# A small public page: its styles inline, no script, forms only to the desk.
PLAIN_PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
HSTS = "max-age=31536000"  # a year: browsers then refuse plain HTTP to this desk
ALWAYS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}

Scope = MutableMapping[str, Any]


def for_response(scope: Mapping[str, Any], present: Mapping[str, str]) -> dict[str, str]:
    """The headers to add to an answer that already has `present` (lower-case names)."""
    added = {name: value for name, value in ALWAYS.items() if name not in present}
    if "content-security-policy" not in present:
        is_page = present.get("content-type", "").startswith("text/html")
        added["content-security-policy"] = PAGE_POLICY if is_page else NOTHING_POLICY
    if scope.get("scheme") == "https" and "strict-transport-security" not in present:
        added["strict-transport-security"] = HSTS
    return added


def apply(scope: Mapping[str, Any], response: Response) -> None:
    """Add the security headers to a response made outside the middleware (the 500)."""
    present = {name.lower(): value for name, value in response.headers.items()}
    for name, value in for_response(scope, present).items():
        response.headers[name] = value


class SecurityHeaders:
    """ASGI middleware: the headers above on every HTTP answer."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                raw = list(message.get("headers") or [])
                present = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw}
                for name, value in for_response(scope, present).items():
                    raw.append((name.encode("latin-1"), value.encode("latin-1")))
                message["headers"] = raw
            await send(message)

        await self.app(scope, receive, with_headers)
