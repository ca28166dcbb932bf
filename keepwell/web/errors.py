"""Errors as HTTP answers: always `{"detail": [{"field": …, "reason": …}]}`, never a 500
for anything a request can send."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from keepwell.errors import Conflict, DatabaseNotReady, InvalidInput, KeepwellError, NotFound
from keepwell.web import headers as security_headers

log = logging.getLogger("keepwell.web")


class NotAuthenticated(KeepwellError):
    """No credentials, or ones that are unknown, revoked or expired (401)."""


class Forbidden(KeepwellError):
    """Signed in, but the member's role (or a missing CSRF token) does not allow this (403)."""

    def __init__(self, reason: str, field: str = "role") -> None:
        super().__init__(reason)
        self.field = field


class TooManyAttempts(KeepwellError):
    """Sign-in attempts are being slowed down for this e-mail and address (429)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed sign-ins: try again in {retry_after} s")
        self.retry_after = retry_after


def body(status: int, field: str | None, reason: str, **headers: str) -> JSONResponse:
    return JSONResponse(
        {"detail": [{"field": field, "reason": reason}]}, status_code=status, headers=headers
    )


def install(app: FastAPI) -> None:
    """Map every error to its status and the common body."""

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        items = [_item(error) for error in exc.errors()]
        return JSONResponse({"detail": items}, status_code=422)

    @app.exception_handler(Conflict)
    async def conflict(_: Request, exc: Conflict) -> JSONResponse:
        return body(409, exc.field, exc.reason)

    @app.exception_handler(StaleDataError)
    async def stale(_: Request, exc: StaleDataError) -> JSONResponse:
        return body(409, None, "changed by someone else meanwhile; load it again")

    @app.exception_handler(InvalidInput)
    async def invalid(_: Request, exc: InvalidInput) -> JSONResponse:
        return body(422, exc.field, exc.reason)

    @app.exception_handler(NotFound)
    async def not_found(_: Request, exc: NotFound) -> JSONResponse:
        return body(404, None, str(exc))

    @app.exception_handler(NotAuthenticated)
    async def unauthenticated(_: Request, exc: NotAuthenticated) -> JSONResponse:
        return body(401, "authorization", str(exc), **{"WWW-Authenticate": "Bearer"})

    @app.exception_handler(Forbidden)
    async def forbidden(_: Request, exc: Forbidden) -> JSONResponse:
        return body(403, exc.field, str(exc))

    @app.exception_handler(TooManyAttempts)
    async def throttled(_: Request, exc: TooManyAttempts) -> JSONResponse:
        return body(429, None, str(exc), **{"Retry-After": str(exc.retry_after)})

    @app.exception_handler(DatabaseNotReady)
    async def not_ready(_: Request, exc: DatabaseNotReady) -> JSONResponse:
        log.error("database not ready: %s", exc)
        return body(503, None, "the database is not ready; see the server's log")

    @app.exception_handler(sa.exc.IntegrityError)
    async def integrity(_: Request, exc: sa.exc.IntegrityError) -> JSONResponse:
        log.warning("refused by the database: %s", exc.orig)
        return body(409, None, "refused by the database: it conflicts with a stored record")

    @app.exception_handler(sa.exc.DataError)
    async def data(_: Request, exc: sa.exc.DataError) -> JSONResponse:
        log.warning("value refused by the database: %s", exc.orig)
        return body(422, None, "a value is out of the range the database stores")

    @app.exception_handler(StarletteHTTPException)
    async def http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return body(exc.status_code, None, str(exc.detail), **(exc.headers or {}))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        answer = body(500, None, "an unexpected error; it was logged")
        # answered outside every middleware (Starlette's last resort): add them here
        security_headers.apply(request.scope, answer)
        return answer


def _item(error: Any) -> dict[str, Any]:
    loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
    field = ".".join(loc) or None
    reason = str(error.get("msg", "invalid"))
    return {"field": field, "reason": reason}
