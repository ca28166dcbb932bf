"""The output models: what the API answers about
surveys, feedback and the actions that close its loop.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.feedback import loop
from keepwell.feedback.models import FeedbackAction, SurveyInvitation
from keepwell.web.schemas import Output


class SurveyPublic(Output):
    id: int
    customer_id: int
    kind: str
    case_id: int | None
    order_id: int | None
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    sent_by_id: int | None
    status: str = ""  # open, answered or expired


class SurveySent(SurveyPublic):
    url: str  # the link to send: shown once, here


class FeedbackPublic(BaseModel):
    id: int
    customer_id: int
    customer: str
    owner: str | None
    kind: str
    score: int | None
    ratings: dict[str, int] | None
    verbatim: str
    answered_at: datetime
    source: str
    invitation_id: int | None
    recorded_by: str | None
    case_id: int | None
    order_id: int | None
    loop: str  # open until the customer was told what we did
    told_at: datetime | None
    told_channel: str | None
    told_note: str
    told_by: str | None
    action_ids: list[int]
    version: int


class ActionPublic(BaseModel):
    id: int
    what: str
    member_id: int | None
    created_at: datetime
    done_at: datetime | None
    feedback_ids: list[int]
    version: int


class FeedbackDetail(BaseModel):
    feedback: FeedbackPublic
    actions: list[ActionPublic]


class Closed(BaseModel):
    action: ActionPublic
    told_feedback_ids: list[int]  # loops this closed
    customers_told: int  # one interaction logged for each
    already_told: int


def survey_public(invitation: SurveyInvitation) -> SurveyPublic:
    """A survey, with its status now: open, answered or expired."""
    found = SurveyPublic.model_validate(invitation)
    if invitation.used_at is not None:
        found.status = "answered"
    else:
        found.status = "expired" if clock.now() >= invitation.expires_at else "open"
    return found


def action_public(session: Session, action: FeedbackAction) -> ActionPublic:
    """An action, with the feedback linked to it."""
    return ActionPublic(
        id=action.id,
        what=action.what,
        member_id=action.member_id,
        created_at=action.created_at,
        done_at=action.done_at,
        feedback_ids=loop.linked_ids(session, action.id),
        version=action.version,
    )
