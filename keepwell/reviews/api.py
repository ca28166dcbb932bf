"""/api/goals, /api/reviews, /api/review-questions, /api/review-settings.

Readers read; members and admins make goals and do reviews; admins manage the review
questions and settings. Every change is in the audit trail."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request, Response
from pydantic import Field

from keepwell import clock
from keepwell.reviews import goals as goal_service
from keepwell.reviews import service, setup
from keepwell.reviews.models import AccountReview, Answer, Goal, GoalStatus, ReviewStatus
from keepwell.reviews.schemas import (
    ChecklistPublic,
    CompletedPublic,
    GoalPublic,
    QuestionPublic,
    ReviewPublic,
    ReviewSettingsPublic,
    SchedulePublic,
)
from keepwell.web.deps import (
    AdminActor,
    DbSession,
    Me,
    customer_by_id,
    for_update,
    member_by_id,
    router,
)
from keepwell.web.records import (
    ListQuery,
    MemberRef,
    api_list,
    check_sent_version,
    locked,
    named,
    versioned,
)
from keepwell.web.schemas import Day, Id, Input, Long, text

What = Annotated[str, text(goal_service.MAX_WHAT, min_length=1)]
QuestionText = Annotated[str, text(setup.MAX_QUESTION, min_length=1)]


class GoalCreate(Input):
    customer_id: Id
    what: What
    target_on: Day | None = None
    notes: Long = ""
    agreed_on: Day | None = None  # default: today


class GoalUpdate(Input):
    """Only the fields sent change; `target_on: null` removes the target date."""

    what: What | None = None
    target_on: Day | None = None
    notes: Long | None = None
    status: GoalStatus | None = None
    version: Id | None = None


class ReviewStart(Input):
    customer_id: Id
    due_on: Day | None = None  # default: today
    member_id: Id | None = None  # who does it; default: the owner


class AnswerInput(Input):
    question: Annotated[str, text(40, min_length=1)]
    answer: Answer
    note: Long = ""


class AnswersInput(Input):
    answers: Annotated[list[AnswerInput], Field(min_length=1, max_length=100)]


class CompleteInput(Input):
    answers: Annotated[list[AnswerInput], Field(default_factory=list, max_length=100)]
    note: Long = ""


class CancelInput(Input):
    note: Long = ""


class QuestionCreate(Input):
    text: QuestionText
    position: Annotated[int, Field(ge=0, le=10_000)] | None = None


class QuestionUpdate(Input):
    text: QuestionText | None = None
    active: bool | None = None
    position: Annotated[int, Field(ge=0, le=10_000)] | None = None


class ReviewSettings(Input):
    interval_days: Annotated[int, Field(ge=1, le=setup.MAX_INTERVAL_DAYS)] | None = None
    key_segments: (
        Annotated[list[Annotated[str, text(100, min_length=1)]], Field(max_length=100)] | None
    ) = None
    min_revenue_minor: Annotated[int, Field(ge=0, le=10**15)] | None = None


reviews = router("reviews")
LockedGoal = Annotated[Goal, Depends(locked(Goal, "goal"))]
LockedReview = Annotated[AccountReview, Depends(locked(AccountReview, "account review"))]


# --- goals --------------------------------------------------------------------------


def _goal(goal: Goal) -> GoalPublic:
    return GoalPublic.model_validate(goal)


class GoalQuery(ListQuery[goal_service.GoalFilter]):
    """Goals agreed with customers, by target date (undated last)."""

    customer_id: Annotated[Id | None, named("customer")] = None
    status: GoalStatus | None = None
    member_id: Annotated[Id | None, named("member", "Member id of who agreed them.")] = None
    target_before: Annotated[Day | None, Field(description="Target date before this day.")] = None
    limit: Annotated[int, Field(ge=1, le=goal_service.MAX_LIMIT)] = 50


api_list(reviews, "/goals", GoalQuery, goal_service.list_goals, GoalPublic)


@reviews.post("/goals", response_model=GoalPublic, status_code=201)
def add_goal(data: GoalCreate, session: DbSession, me: Me, response: Response) -> GoalPublic:
    """Record a goal agreed with a customer (by you)."""
    goal = goal_service.add_goal(
        session,
        customer_by_id(session, data.customer_id),
        what=data.what,
        target_on=data.target_on,
        notes=data.notes,
        member=me,
        agreed_on=data.agreed_on,
    )
    return versioned(response, goal, _goal(goal))


@reviews.get("/goals/{goal_id}", response_model=GoalPublic)
def get_goal(goal_id: Id, session: DbSession, response: Response) -> GoalPublic:
    """One goal; the ETag is its version."""
    goal = goal_service.get_goal(session, goal_id)
    return versioned(response, goal, _goal(goal))


@reviews.patch("/goals/{goal_id}", response_model=GoalPublic)
def update_goal(
    goal: LockedGoal, data: GoalUpdate, request: Request, session: DbSession
) -> GoalPublic:
    """Change a goal: what, target date (null: none), notes, status (met, missed,
    dropped or open again)."""
    check_sent_version(request, "goal", goal, data.version)
    sent = data.model_fields_set
    goal_service.update_goal(
        session,
        goal,
        what=data.what,
        target_on=data.target_on if "target_on" in sent else goal_service.UNSET,
        notes=data.notes,
        status=data.status,
    )
    return _goal(goal)


@reviews.delete("/goals/{goal_id}", status_code=204)
def delete_goal(goal_id: Id, session: DbSession) -> Response:
    """Forget a goal entered by mistake (one given up on is `dropped` instead)."""
    goal_service.delete_goal(session, for_update(session, Goal, goal_id, "goal"))
    return Response(status_code=204)


# --- reviews ------------------------------------------------------------------------


class ReviewQuery(ListQuery[service.ReviewFilter]):
    """Account reviews, soonest due first."""

    status: ReviewStatus | None = None
    member_id: Annotated[MemberRef, named("owner", "Who does them: member id or e-mail.")] = None
    customer_id: Annotated[Id | None, named("customer")] = None
    due_by: Annotated[Day | None, Field(description="Due on or before this day.")] = None
    limit: Annotated[int, Field(ge=1, le=service.MAX_LIMIT)] = 50


api_list(reviews, "/reviews", ReviewQuery, service.list_reviews, ReviewPublic)


def _checklist(session: DbSession, review: AccountReview) -> ChecklistPublic:
    found = ChecklistPublic.model_validate(service.checklist(session, review).to_dict())
    return found


def _answers(items: list[AnswerInput]) -> list[service.AnswerIn]:
    return [service.AnswerIn(a.question, a.answer, a.note) for a in items]


@reviews.post("/reviews", response_model=ChecklistPublic, status_code=201)
def start_review(data: ReviewStart, session: DbSession, response: Response) -> ChecklistPublic:
    """Start a review of any customer now (or due on a day): its checklist."""
    review = service.start_review(
        session,
        customer_by_id(session, data.customer_id),
        member=member_by_id(session, data.member_id, "member_id"),
        due_on=data.due_on,
    )
    return versioned(response, review, _checklist(session, review))


@reviews.post("/reviews/schedule", response_model=SchedulePublic)
def schedule(session: DbSession, _: AdminActor) -> SchedulePublic:
    """Give every key account a due review (admins; `keepwell serve` does it daily too)."""
    run = service.schedule_reviews(session.connection(), clock.today())
    return SchedulePublic(
        scheduled=run.scheduled, reassigned=run.reassigned, cancelled=run.cancelled
    )


@reviews.get("/reviews/{review_id}", response_model=ChecklistPublic)
def get_review(review_id: Id, session: DbSession, response: Response) -> ChecklistPublic:
    """The review's checklist: each question with what the records say (hint), the answer
    they suggest, and the answer given; the customer's goals."""
    review = service.get_review(session, review_id)
    return versioned(response, review, _checklist(session, review))


@reviews.post("/reviews/{review_id}/answers", response_model=ChecklistPublic)
def answer_review(
    review: LockedReview, data: AnswersInput, session: DbSession, me: Me
) -> ChecklistPublic:
    """Answer checklist questions (yes, no or partly, with a note); all or none."""
    service.answer_review(session, review, _answers(data.answers), member=me)
    return _checklist(session, review)


@reviews.post("/reviews/{review_id}/complete", response_model=CompletedPublic)
def complete_review(
    review: LockedReview,
    session: DbSession,
    me: Me,
    data: CompleteInput = CompleteInput(answers=[]),
) -> CompletedPublic:
    """Finish the review (with any last answers): every question must be answered. A key
    account's next review is scheduled."""
    done, following = service.complete_review(
        session, review, member=me, note=data.note,
        answers=_answers(data.answers),
    )  # fmt: skip
    return CompletedPublic(
        review=ReviewPublic.model_validate(done),
        next_review=ReviewPublic.model_validate(following) if following else None,
    )


@reviews.post("/reviews/{review_id}/cancel", response_model=ReviewPublic)
def cancel_review(
    review: LockedReview, session: DbSession, data: CancelInput = CancelInput()
) -> ReviewPublic:
    """Drop a due review."""
    return ReviewPublic.model_validate(service.cancel_review(session, review, note=data.note))


# --- questions and settings (admins) ------------------------------------------------


@reviews.get("/review-questions", response_model=list[QuestionPublic])
def list_questions(session: DbSession) -> list[QuestionPublic]:
    """The admin's own checklist questions (inactive ones too), in checklist order."""
    return [QuestionPublic.model_validate(q) for q in setup.list_questions(session)]


@reviews.post("/review-questions", response_model=QuestionPublic, status_code=201)
def add_question(data: QuestionCreate, session: DbSession, _: AdminActor) -> QuestionPublic:
    """Add a question to every due review's checklist (admins)."""
    return QuestionPublic.model_validate(
        setup.add_question(session, data.text, position=data.position)
    )


@reviews.patch("/review-questions/{question_id}", response_model=QuestionPublic)
def update_question(
    question_id: Id, data: QuestionUpdate, session: DbSession, _: AdminActor
) -> QuestionPublic:
    """Reword, reorder, or (de)activate a question (admins)."""
    question = setup.update_question(
        session, question_id, text=data.text, active=data.active, position=data.position
    )
    return QuestionPublic.model_validate(question)


@reviews.get("/review-settings", response_model=ReviewSettingsPublic)
def get_settings(session: DbSession) -> ReviewSettingsPublic:
    """Who is a key account, and days between their reviews."""
    return ReviewSettingsPublic.model_validate(setup.review_config(session).to_dict())


@reviews.put("/review-settings", response_model=ReviewSettingsPublic)
def put_settings(data: ReviewSettings, session: DbSession, _: AdminActor) -> ReviewSettingsPublic:
    """Change the review settings (admins); what is not sent stays, `min_revenue_minor:
    null` removes the revenue rule."""
    changes: dict[str, Any] = {}
    if "min_revenue_minor" in data.model_fields_set:
        changes["min_revenue_minor"] = data.min_revenue_minor
    config = setup.set_review_config(
        session, interval_days=data.interval_days, key_segments=data.key_segments, **changes
    )
    return ReviewSettingsPublic.model_validate(config.to_dict())
