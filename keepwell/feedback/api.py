"""/api/surveys (send a survey: its link) and /api/feedback (answers by hand, our own
scorecard, the list, telling the customer; actions that close many loops at once)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from fastapi import Depends, Response
from pydantic import Field
from sqlalchemy.orm import Session

from keepwell.feedback import answers, common, loop, service
from keepwell.feedback import surveys as invitations
from keepwell.feedback.models import Feedback, FeedbackAction, Kind, SurveyKind
from keepwell.feedback.schemas import (
    ActionPublic,
    Closed,
    FeedbackDetail,
    FeedbackPublic,
    SurveyPublic,
    SurveySent,
)
from keepwell.feedback.schemas import action_public as _action
from keepwell.feedback.schemas import survey_public as _survey
from keepwell.touches.models import Channel
from keepwell.web.deps import DbSession, Me, customer_by_id, router
from keepwell.web.records import ListQuery, api_list, locked, named, versioned
from keepwell.web.schemas import Id, Input, Moment, text

Score = Annotated[int, Field(ge=0, le=10)]
Rating = Annotated[int, Field(ge=1, le=5)]
Verbatim = Annotated[str, text(common.MAX_VERBATIM)]
Note = Annotated[str, text(common.MAX_NOTE)]
FeedbackIds = Annotated[list[Id], Field(max_length=common.MAX_LINKED)]


class SurveyCreate(Input):
    customer_id: Id
    kind: SurveyKind
    case_id: Id | None = None  # what a CSAT asks about
    order_id: Id | None = None
    expires_days: Annotated[int, Field(ge=1, le=common.MAX_EXPIRES_DAYS)] = (
        common.DEFAULT_EXPIRES_DAYS
    )


class FeedbackCreate(Input):
    """A survey answer given by phone or in person (kind nps, csat, scorecard), or our
    own rating of the relationship (kind relationship: ratings of our categories)."""

    customer_id: Id
    kind: Kind
    score: Score | None = None  # nps 0-10, csat 1-5
    ratings: dict[Annotated[str, text(40)], Rating] | None = None  # scorecards: category -> 1-5
    verbatim: Verbatim = ""  # their words (relationship: our note)
    answered_at: Moment | None = None  # default: now
    invitation_id: Id | None = None  # the survey this answers (its link is then used)
    case_id: Id | None = None


class TellInput(Input):
    note: Annotated[str, text(common.MAX_NOTE, min_length=1)]  # what they were told
    channel: Channel = "email"
    at: Moment | None = None  # default: now


class ActionCreate(Input):
    what: Annotated[str, text(common.MAX_WHAT, min_length=1)]
    feedback_ids: FeedbackIds = Field(default_factory=list)


class LinkInput(Input):
    feedback_ids: Annotated[list[Id], Field(min_length=1, max_length=common.MAX_LINKED)]


class CloseInput(Input):
    note: Note = ""  # added to what each customer is told
    channel: Channel = "email"


surveys = router("surveys")
feedback = router("feedback")
LockedFeedback = Annotated[Feedback, Depends(locked(Feedback, "feedback"))]
# An action's routes name no version (they never did): linking adds links, closing happens once.
LockedAction = Annotated[
    FeedbackAction, Depends(locked(FeedbackAction, "feedback action", if_match=False))
]


def _described(session: Session, items: Sequence[Feedback]) -> list[FeedbackPublic]:
    return [FeedbackPublic.model_validate(row) for row in service.describe(session, items)]


class FeedbackQuery(ListQuery[service.FeedbackFilter]):
    """Feedback, newest first."""

    kind: Kind | None = None
    min_score: Annotated[Score | None, Field(description="Score at least (NPS, CSAT).")] = None
    max_score: Annotated[Score | None, Field(description="Score at most (NPS, CSAT).")] = None
    customer_id: Annotated[Id | None, named("customer")] = None
    owner_id: Annotated[Id | None, named("owner", "Member id of the customers' owner.")] = None
    loop: Annotated[
        Literal["open", "closed"] | None, Field(description="Loop still open, or closed.")
    ] = None
    since: Annotated[Moment | None, Field(description="Answered at or after.")] = None
    limit: Annotated[int, Field(ge=1, le=common.MAX_LIMIT)] = 50


api_list(
    feedback, "/feedback", FeedbackQuery, service.list_feedback, FeedbackPublic, describe=_described
)


def _feedback(session: DbSession, item: Feedback) -> FeedbackPublic:
    return _described(session, [item])[0]


@surveys.post("/surveys", response_model=SurveySent, status_code=201)
def send_survey(data: SurveyCreate, session: DbSession, me: Me) -> SurveySent:
    """Make a survey for a customer: the answer is the link to send them (shown once)."""
    invitation, url = invitations.invite(
        session,
        customer_by_id(session, data.customer_id),
        data.kind,
        case_id=data.case_id,
        order_id=data.order_id,
        expires_days=data.expires_days,
        member=me,
    )
    return SurveySent(**_survey(invitation).model_dump(), url=url)


@surveys.get("/surveys/{survey_id}", response_model=SurveyPublic)
def get_survey(survey_id: Id, session: DbSession) -> SurveyPublic:
    """A survey sent: open, answered or expired (its link is not shown again)."""
    return _survey(common.get_invitation(session, survey_id))


@feedback.post("/feedback", response_model=FeedbackPublic, status_code=201)
def record_feedback(
    data: FeedbackCreate, session: DbSession, me: Me, response: Response
) -> FeedbackPublic:
    """Record an answer given by phone or in person (a detractor's opens a task for the
    owner), or, with kind `relationship`, our own rating of the relationship."""
    item = answers.record_feedback(
        session,
        customer_by_id(session, data.customer_id),
        data.kind,
        score=data.score,
        ratings=data.ratings,
        verbatim=data.verbatim,
        member=me,
        answered_at=data.answered_at,
        invitation_id=data.invitation_id,
        case_id=data.case_id,
    )
    return versioned(response, item, _feedback(session, item))


@feedback.post("/feedback/actions", response_model=ActionPublic, status_code=201)
def add_action(data: ActionCreate, session: DbSession, me: Me) -> ActionPublic:
    """Record what we do about some feedback, linked to it."""
    items = loop.feedback_by_ids(session, data.feedback_ids)
    action = loop.add_action(session, data.what, items, member=me)
    return _action(session, action)


@feedback.get("/feedback/actions/{action_id}", response_model=ActionPublic)
def get_action(action_id: Id, session: DbSession) -> ActionPublic:
    """An action and the feedback it answers."""
    return _action(session, common.get_action(session, action_id))


@feedback.post("/feedback/actions/{action_id}/links", response_model=ActionPublic)
def link_feedback(action: LockedAction, data: LinkInput, session: DbSession) -> ActionPublic:
    """Link more feedback to an action (ones linked already stay as they are)."""
    loop.link(session, action, loop.feedback_by_ids(session, data.feedback_ids))
    return _action(session, action)


@feedback.post("/feedback/actions/{action_id}/close", response_model=Closed)
def close_action(
    action: LockedAction, session: DbSession, me: Me, data: CloseInput = CloseInput()
) -> Closed:
    """The action is done: every customer whose linked feedback is open is told (one
    interaction each, on their timeline) and each of those loops closes."""
    done = loop.close_action(session, action, note=data.note, channel=data.channel, member=me)
    return Closed(
        action=_action(session, action),
        told_feedback_ids=[f.id for f in done.told],
        customers_told=done.customers,
        already_told=done.already,
    )


@feedback.get("/feedback/{feedback_id}", response_model=FeedbackDetail)
def get_feedback(feedback_id: Id, session: DbSession, response: Response) -> FeedbackDetail:
    """One piece of feedback and the actions linked to it; the ETag is its version."""
    item = common.get_feedback(session, feedback_id)
    actions = [_action(session, a) for a in loop.actions_of(session, item.id)]
    return FeedbackDetail(
        feedback=versioned(response, item, _feedback(session, item)), actions=actions
    )


@feedback.post("/feedback/{feedback_id}/tell", response_model=FeedbackPublic)
def tell(item: LockedFeedback, data: TellInput, session: DbSession, me: Me) -> FeedbackPublic:
    """The customer was told what we did: the loop closes (logged as an interaction)."""
    loop.tell(session, item, note=data.note, channel=data.channel, member=me, at=data.at)
    return _feedback(session, item)
