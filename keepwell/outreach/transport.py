"""Handing one message to the SMTP server, and knowing whether the server took it.

`smtp_send` returns once the server has accepted the message (its answer to the end
of DATA). When it raises, it says which of two things happened:

- `NotAccepted`: the server surely does not have the message — it could not be
  reached, it refused the sender, the recipient or the text (an SMTP error answer,
  4xx or 5xx, at any step including DATA), or the connection failed before the
  message's text was handed over. Sending it again is safe.
- `OutcomeUnknown`: the connection failed after the text was handed over and before
  the server answered (a timeout, a dropped connection). The server may have accepted
  it: sending it again might deliver it twice, so the outbox does not.

A failure after the server accepted (closing the connection, say) is no failure: the
message left.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from keepwell.outreach.mail import SmtpConfig

SMTP_TIMEOUT_S = 20  # per step of the conversation


class HandoffError(smtplib.SMTPException):
    """The server did not (or not surely) take the message; str() says why."""


class NotAccepted(HandoffError):
    """The server does not have the message: sending it again is safe."""


class OutcomeUnknown(HandoffError):
    """The server may have accepted the message: it must not be sent again unasked."""


# Hand one message to a server: returns once accepted, raises HandoffError otherwise.
Transport = Callable[[SmtpConfig, EmailMessage], None]


class _Smtp(smtplib.SMTP):
    """smtplib.SMTP that notes when the DATA step begins: from then on, a broken
    connection leaves the outcome unknown."""

    data_begun = False

    def data(self, msg: Any) -> tuple[int, bytes]:
        self.data_begun = True
        return super().data(msg)


class _SmtpSsl(smtplib.SMTP_SSL):
    data_begun = False

    def data(self, msg: Any) -> tuple[int, bytes]:
        self.data_begun = True
        return super().data(msg)


def smtp_send(config: SmtpConfig, email: EmailMessage, *, timeout: float = SMTP_TIMEOUT_S) -> None:
    """Hand `email` to the server of `config`: returns once it is accepted; raises
    NotAccepted (safe to send again) or OutcomeUnknown (it may have been accepted)."""
    smtp: _Smtp | _SmtpSsl | None = None
    try:
        if config.tls == "ssl":
            context = ssl.create_default_context()
            smtp = _SmtpSsl(config.host, config.port, timeout=timeout, context=context)
        else:
            smtp = _Smtp(config.host, config.port, timeout=timeout)
        if config.tls == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if config.user:
            smtp.login(config.user, config.password)
        smtp.send_message(email)
    except Exception as exc:  # every failure is sorted into one of the two
        if smtp is not None:
            smtp.close()  # no QUIT: a late answer to DATA must not be read as QUIT's
        why = f"{type(exc).__name__}: {exc}"[:1000]
        answered = isinstance(exc, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused)
        if smtp is not None and smtp.data_begun and not answered:
            raise OutcomeUnknown(why) from exc
        raise NotAccepted(why) from exc
    try:  # accepted: the message left, whatever saying goodbye does
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()
