"""What the feedback rooms share: limits, the link error, look-ups by id and the checks
of a note, a channel, a moment and the customer's case or order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from keepwell.cases.models import Case
from keepwell.customers.models import Customer
from keepwell.db import get_or_raise
from keepwell.errors import InvalidInput, KeepwellError, check_text
from keepwell.errors import require_aware as _require_aware
from keepwell.feedback.models import (
    Feedback,
    FeedbackAction,
    SurveyInvitation,
)
from keepwell.orders.models import Order
from keepwell.touches.models import CHANNELS

DEFAULT_EXPIRES_DAYS = 30
MAX_EXPIRES_DAYS = 365
FOLLOW_UP_DAYS = 2
MAX_VERBATIM = 5000
MAX_WHAT = 2000
MAX_NOTE = 2000
MAX_LIMIT = 500
MAX_LINKED = 500
FUTURE_SLACK = timedelta(days=1)
SECRET_NAME = "survey"  # noqa: S105 - the name of the desk secret, not a secret
PUBLIC_URL = "public_url"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
LABELS = {"nps": "NPS", "csat": "CSAT", "scorecard": "scorecard", "relationship": "our scorecard"}


class LinkRefused(KeepwellError):
    """A survey link that opens nothing: `why` is forged, expired or used."""

    def __init__(self, why: str, message: str) -> None:
        super().__init__(message)
        self.why = why


def get_feedback(session: Session, feedback_id: int) -> Feedback:
    return get_or_raise(session, Feedback, feedback_id, "feedback")


def get_action(session: Session, action_id: int) -> FeedbackAction:
    return get_or_raise(session, FeedbackAction, action_id, "feedback action")


def get_invitation(session: Session, invitation_id: int) -> SurveyInvitation:
    return get_or_raise(session, SurveyInvitation, invitation_id, "survey invitation")


def aware(moment: datetime) -> datetime:
    """A timestamp read through a subquery (SQLite gives it back naive): UTC-aware."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def customer_of(session: Session, customer_id: int) -> Customer:
    return get_or_raise(session, Customer, customer_id, "customer")


def check_context(
    session: Session, customer: Customer, case_id: int | None, order_id: int | None
) -> None:
    if case_id is not None:
        case = session.get(Case, case_id)
        if case is None or case.customer_id != customer.id:
            raise InvalidInput("case_id", f"no case #{case_id} of this customer")
    if order_id is not None:
        order = session.get(Order, order_id)
        if order is None or order.customer_id != customer.id:
            raise InvalidInput("order_id", f"no order #{order_id} of this customer")


def check_moment(field: str, moment: datetime | None, now: datetime) -> datetime:
    if moment is None:
        return now
    _require_aware(field, moment)
    if moment > now + FUTURE_SLACK:
        raise InvalidInput(field, "cannot be in the future")
    return moment


def clean_note(text: str) -> str:
    if not isinstance(text, str):
        raise InvalidInput("note", "give text")
    return check_text("note", text, MAX_NOTE)


def check_channel(channel: str) -> str:
    value = channel.strip().lower() if isinstance(channel, str) else ""
    if value not in CHANNELS:
        raise InvalidInput("channel", f"use one of {', '.join(CHANNELS)}, not {channel!r}")
    return value
