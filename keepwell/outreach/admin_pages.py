"""SMTP settings (`/admin/smtp`, admins only): the outgoing-mail settings in effect and
where each comes from (the password only as set or not), the desk's overrides, a test
message to the admin asking, and the outbox: what waits, what failed and why (retry),
what may have left unconfirmed (confirm or retry), what was sent in the last day.
Through keepwell.outreach.smtp, mail.retry and mail.confirm."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request, Response

from keepwell.accounts.admin_pages import AdminPage, admin_page
from keepwell.outreach import mail, smtp
from keepwell.web.deps import DbSession, reads_only
from keepwell.web.pages import attempt, done, page_router
from keepwell.web.schemas import Id

pages = page_router()

Field = Annotated[str, Form(max_length=400)]


def _page(request: Request, session: DbSession, status: int = 200, **extra: Any) -> Response:
    return admin_page(
        request, "admin_smtp.html", "SMTP settings", status=status,
        smtp=smtp.smtp_settings(session), outbox=smtp.outbox_glance(session),
        tls_modes=mail.TLS_MODES,
        form=extra.pop("form", None) or mail.smtp_overrides(session), **extra,
    )  # fmt: skip


@pages.get("/admin/smtp")
def smtp_page(request: Request, session: DbSession, actor: AdminPage) -> Response:
    return _page(request, session)


@pages.post("/admin/smtp")
def set_smtp(
    request: Request,
    session: DbSession,
    actor: AdminPage,
    host: Field = "",
    port: Field = "",
    tls: Field = "",
    sender: Annotated[str, Form(alias="from", max_length=400)] = "",
    user: Field = "",
) -> Response:
    """Store the overrides (empty: the environment's value applies), checked first."""
    given = {"host": host, "port": port, "tls": tls, "from": sender, "user": user}
    _, error = attempt(
        session,
        lambda: smtp.set_overrides(
            session, host=host, port=port, tls=tls, sender=sender, user=user
        ),
    )
    if error is not None:
        return _page(request, session, error=error, form=given)
    return _page(request, session, notice="Saved: the outbox uses these settings from now on.")


@pages.post("/admin/smtp/test")
@reads_only  # the SMTP conversation may take seconds: writers are not kept waiting
def send_test(request: Request, session: DbSession, actor: AdminPage) -> Response:
    """Send a test message to the signed-in admin, now, and say what the server said."""
    try:
        sent, error = attempt(session, lambda: smtp.send_test(session, actor.email))
    except smtp.SmtpFailed as exc:
        return _page(request, session, status=502, smtp_error=str(exc))
    if sent is None:
        return _page(request, session, error=error)
    notice = f"Sent a test message to {sent.to} through {sent.host}:{sent.port}: check your inbox."
    return _page(request, session, notice=notice)


@pages.post("/admin/smtp/messages/{message_id}/retry")
def retry_message(
    message_id: Id, request: Request, session: DbSession, actor: AdminPage
) -> Response:
    """Send a failed or unconfirmed message again at the next delivery (as `keepwell
    outreach retry`)."""
    _, error = attempt(session, lambda: mail.retry(session, message_id))
    if error is not None:
        return _page(request, session, error=error)
    return done(request, "/admin/smtp")


@pages.post("/admin/smtp/messages/{message_id}/confirm")
def confirm_message(
    message_id: Id, request: Request, session: DbSession, actor: AdminPage
) -> Response:
    """Record an unconfirmed message as sent (as `keepwell outreach confirm`)."""
    _, error = attempt(session, lambda: mail.confirm(session, message_id))
    if error is not None:
        return _page(request, session, error=error)
    return done(request, "/admin/smtp")
