"""Surveys: inviting a customer, the signed single-use link and its page's context, and
answering through the link (keepwell/feedback/answers.py records the answer)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.accounts.models import TeamMember
from keepwell.cases.models import Case
from keepwell.customers.models import Customer
from keepwell.errors import InvalidInput, check_choice
from keepwell.errors import require_aware as _require_aware
from keepwell.feedback import links
from keepwell.feedback.answers import _store, check_answer
from keepwell.feedback.common import (
    DEFAULT_EXPIRES_DAYS,
    DEFAULT_PUBLIC_URL,
    MAX_EXPIRES_DAYS,
    PUBLIC_URL,
    SECRET_NAME,
    LinkRefused,
    check_context,
    customer_of,
)
from keepwell.feedback.models import (
    CUSTOMER_CATEGORIES,
    SURVEY_KINDS,
    Feedback,
    SurveyInvitation,
)
from keepwell.orders.models import Order


def invite(
    session: Session,
    customer: Customer,
    kind: str,
    *,
    case_id: int | None = None,
    order_id: int | None = None,
    expires_days: int = DEFAULT_EXPIRES_DAYS,
    member: TeamMember | None = None,
    now: datetime | None = None,
) -> tuple[SurveyInvitation, str]:
    """A survey for one customer and the link to it (for an e-mail, or to read out).

    `case_id` or `order_id` say what a CSAT asks about. The link works once, until it
    expires `expires_days` after `now`.
    """
    from keepwell.customers.privacy import is_erased

    check_choice("kind", kind, SURVEY_KINDS)
    if not 1 <= expires_days <= MAX_EXPIRES_DAYS:
        raise InvalidInput("expires_days", f"give 1 to {MAX_EXPIRES_DAYS} days, not {expires_days}")
    if is_erased(customer):
        raise InvalidInput("customer", f"customer #{customer.id} was erased at their request")
    check_context(session, customer, case_id, order_id)
    moment = now if now is not None else clock.now()
    _require_aware("now", moment)
    moment = moment.astimezone(UTC).replace(microsecond=0)  # the token holds whole seconds
    invitation = SurveyInvitation(
        customer_id=customer.id,
        kind=kind,
        case_id=case_id,
        order_id=order_id,
        created_at=moment,
        expires_at=moment + timedelta(days=expires_days),
        sent_by_id=member.id if member is not None else None,
    )
    session.add(invitation)
    session.flush()
    return invitation, survey_url(session, invitation)


def survey_url(session: Session, invitation: SurveyInvitation) -> str:
    """The public link of an invitation, on the desk's `public_url` setting."""
    from keepwell.settings import service as settings

    base = settings.get(session, PUBLIC_URL, DEFAULT_PUBLIC_URL)
    if not isinstance(base, str) or not base.startswith(("http://", "https://")):
        raise InvalidInput(PUBLIC_URL, f"the setting must be an http(s) address, not {base!r}")
    return f"{base.rstrip('/')}/s/{token_of(session, invitation)}"


def token_of(session: Session, invitation: SurveyInvitation) -> str:
    from keepwell.settings import service as settings

    key = settings.secret(session, SECRET_NAME)
    expires = int(invitation.expires_at.timestamp())
    return links.sign(key, invitation.id, invitation.customer_id, invitation.kind, expires)


def open_link(
    session: Session, token: str, *, now: datetime | None = None, lock: bool = False
) -> SurveyInvitation:
    """The invitation a link opens, or LinkRefused: forged (not signed by this desk, or
    changed), used (answered already) or expired. `lock` holds it for the answer."""
    from keepwell.settings import service as settings

    forged = LinkRefused("forged", "this survey link is not valid")
    parsed = links.parse(token)
    if parsed is None:
        raise forged
    invitation = session.get(SurveyInvitation, parsed.invitation_id, with_for_update=lock)
    if invitation is None:
        raise forged
    key = settings.secret(session, SECRET_NAME)
    if not links.genuine(key, parsed, invitation.customer_id, invitation.kind) or (
        parsed.expires != int(invitation.expires_at.timestamp())
    ):
        raise forged
    if invitation.used_at is not None:
        raise LinkRefused("used", "this survey was answered already")
    moment = now if now is not None else clock.now()
    if moment >= invitation.expires_at:
        raise LinkRefused("expired", "this survey link has expired")
    return invitation


def answer_link(
    session: Session,
    token: str,
    *,
    score: int | None = None,
    ratings: Mapping[str, int] | None = None,
    verbatim: str = "",
    now: datetime | None = None,
) -> Feedback:
    """Store the answer given through a survey link, and use the link up (one
    transaction: both or neither). Refused answers write nothing."""
    moment = now if now is not None else clock.now()
    invitation = open_link(session, token, now=moment, lock=True)
    score, clean, verbatim = check_answer(invitation.kind, score, ratings, verbatim)
    customer = customer_of(session, invitation.customer_id)
    invitation.used_at = moment
    try:
        return _store(
            session,
            customer,
            kind=invitation.kind,
            score=score,
            ratings=clean,
            verbatim=verbatim,
            answered_at=moment,
            source="survey",
            invitation=invitation,
            case_id=invitation.case_id,
            order_id=invitation.order_id,
        )
    except InvalidInput as refused:  # another answer won the race for this link
        if refused.field == "invitation_id":
            raise LinkRefused("used", "this survey was answered already") from None
        raise


def survey_context(session: Session, invitation: SurveyInvitation) -> dict[str, Any]:
    """What the survey page shows: whom it greets, what the questions are about."""
    customer = customer_of(session, invitation.customer_id)
    about = ""
    if invitation.case_id is not None:
        case = session.get(Case, invitation.case_id)
        about = f"how we handled “{case.title}”" if case is not None else ""
    elif invitation.order_id is not None:
        order = session.get(Order, invitation.order_id)
        if order is not None:
            about = f"your order of {order.ordered_at:%d %B %Y}"
    first = (customer.name or "").split()
    return {
        "kind": invitation.kind,
        "greeting": first[0] if first else "",
        "about": about,
        "categories": CUSTOMER_CATEGORIES,
        "expires_at": invitation.expires_at,
    }
