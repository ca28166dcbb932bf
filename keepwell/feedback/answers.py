"""Answers: checking and recording a survey answer or a piece of feedback (by link or by
hand), rating the relationship, and the follow-up a low score asks for.

A detractor (NPS 0-6) or a low CSAT (1-2) opens a follow-up task for the customer's
owner, due within two days, with the customer's own words as its context.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.accounts.models import TeamMember
from keepwell.analytics.nps import DETRACTOR_MAX, LOW_CSAT_MAX
from keepwell.customers.models import Customer
from keepwell.errors import InvalidInput, check_choice, check_text
from keepwell.feedback.common import (
    FOLLOW_UP_DAYS,
    LABELS,
    MAX_VERBATIM,
    check_context,
    check_moment,
)
from keepwell.feedback.models import (
    CUSTOMER_CATEGORIES,
    KINDS,
    OUR_CATEGORIES,
    RATING_RANGE,
    SCORE_RANGES,
    SOURCES,
    SURVEY_KINDS,
    Feedback,
    SurveyInvitation,
)
from keepwell.tasks.models import Task


def check_answer(
    kind: str, score: int | None, ratings: Mapping[str, int] | None, verbatim: str
) -> tuple[int | None, dict[str, int] | None, str]:
    """The answer, checked for its kind: a score for NPS and CSAT, a rating of every
    category for scorecards. Raises InvalidInput naming the field."""
    check_choice("kind", kind, KINDS)
    if not isinstance(verbatim, str):
        raise InvalidInput("verbatim", "give text")
    verbatim = check_text("verbatim", verbatim, MAX_VERBATIM)
    if "\x00" in verbatim:
        raise InvalidInput("verbatim", "a NUL character is not allowed")
    if kind in SCORE_RANGES:
        low, high = SCORE_RANGES[kind]
        if ratings:
            raise InvalidInput("ratings", f"{LABELS[kind]} is answered with a score, not ratings")
        if score is None:
            raise InvalidInput("score", f"choose a score from {low} to {high}")
        if isinstance(score, bool) or not isinstance(score, int) or not low <= score <= high:
            raise InvalidInput("score", f"choose a score from {low} to {high}, not {score!r}")
        return score, None, verbatim
    if score is not None:
        raise InvalidInput("score", f"a {LABELS[kind]} has ratings per category, not a score")
    categories = CUSTOMER_CATEGORIES if kind == "scorecard" else OUR_CATEGORIES
    given = dict(ratings or {})
    unknown = sorted(set(given) - set(categories))
    if unknown:
        raise InvalidInput(
            "ratings", f"unknown category {unknown[0]!r}: use {', '.join(categories)}"
        )
    low, high = RATING_RANGE
    clean: dict[str, int] = {}
    for name in categories:
        value = given.get(name)
        if value is None:
            raise InvalidInput(f"ratings.{name}", f"rate {categories[name].lower()} ({low}-{high})")
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidInput(f"ratings.{name}", f"give {low} to {high}, not {value!r}")
        clean[name] = value
    return None, clean, verbatim


def record_answer(
    session: Session,
    customer: Customer,
    kind: str,
    *,
    score: int | None = None,
    ratings: Mapping[str, int] | None = None,
    verbatim: str = "",
    member: TeamMember | None = None,
    answered_at: datetime | None = None,
    invitation: SurveyInvitation | None = None,
    case_id: int | None = None,
    order_id: int | None = None,
    source: str = "manual",
) -> Feedback:
    """A survey answer given by phone, in person or from another system (`source`
    manual or import). With `invitation`, that survey is answered and its link used."""
    check_choice("kind", kind, SURVEY_KINDS)
    check_choice("source", source, SOURCES)
    score, clean, verbatim = check_answer(kind, score, ratings, verbatim)
    now = clock.now()
    when = check_moment("answered_at", answered_at, now)
    check_context(session, customer, case_id, order_id)
    if invitation is not None:
        if invitation.customer_id != customer.id or invitation.kind != kind:
            raise InvalidInput(
                "invitation_id",
                f"invitation #{invitation.id} is a {invitation.kind} survey for customer "
                f"#{invitation.customer_id}",
            )
        if invitation.used_at is not None:
            raise InvalidInput("invitation_id", f"invitation #{invitation.id} was answered already")
        invitation.used_at = now
        case_id = case_id if case_id is not None else invitation.case_id
        order_id = order_id if order_id is not None else invitation.order_id
    return _store(
        session,
        customer,
        kind=kind,
        score=score,
        ratings=clean,
        verbatim=verbatim,
        answered_at=when,
        source=source,
        invitation=invitation,
        member=member,
        case_id=case_id,
        order_id=order_id,
    )


def record_feedback(
    session: Session,
    customer: Customer,
    kind: str,
    *,
    score: int | None = None,
    ratings: Mapping[str, int] | None = None,
    verbatim: str = "",
    member: TeamMember | None = None,
    answered_at: datetime | None = None,
    invitation_id: int | None = None,
    case_id: int | None = None,
) -> Feedback:
    """Feedback recorded by a member: a survey answer given by phone or in person
    (record_answer), or with kind `relationship` our own scorecard (rate_relationship)."""
    check_choice("kind", kind, KINDS)
    if kind == "relationship":
        for field, value in (("score", score), ("invitation_id", invitation_id)):
            if value is not None:
                raise InvalidInput(field, "our scorecard has ratings of our categories only")
        return rate_relationship(
            session, customer, ratings or {}, note=verbatim, member=member, at=answered_at
        )
    invitation = None
    if invitation_id is not None:
        invitation = session.get(SurveyInvitation, invitation_id, with_for_update=True)
        if invitation is None:
            raise InvalidInput("invitation_id", f"no survey invitation #{invitation_id}")
    return record_answer(
        session,
        customer,
        kind,
        score=score,
        ratings=ratings,
        verbatim=verbatim,
        member=member,
        answered_at=answered_at,
        invitation=invitation,
        case_id=case_id,
    )


def rate_relationship(
    session: Session,
    customer: Customer,
    ratings: Mapping[str, int],
    *,
    note: str = "",
    member: TeamMember | None = None,
    at: datetime | None = None,
) -> Feedback:
    """Our side of the two-way scorecard: how we rate the relationship with the
    customer, category by category (OUR_CATEGORIES, 1-5 each)."""
    _, clean, note = check_answer("relationship", None, ratings, note)
    when = check_moment("at", at, clock.now())
    return _store(
        session,
        customer,
        kind="relationship",
        score=None,
        ratings=clean,
        verbatim=note,
        answered_at=when,
        source="manual",
        member=member,
    )


def _store(
    session: Session,
    customer: Customer,
    *,
    kind: str,
    score: int | None,
    ratings: dict[str, int] | None,
    verbatim: str,
    answered_at: datetime,
    source: str,
    invitation: SurveyInvitation | None = None,
    member: TeamMember | None = None,
    case_id: int | None = None,
    order_id: int | None = None,
) -> Feedback:
    feedback = Feedback(
        customer_id=customer.id,
        kind=kind,
        score=score,
        ratings=ratings,
        verbatim=verbatim,
        answered_at=answered_at,
        source=source,
        invitation_id=invitation.id if invitation is not None else None,
        member_id=member.id if member is not None else None,
        case_id=case_id,
        order_id=order_id,
        told_note="",
        created_at=clock.now(),
    )
    try:
        with session.begin_nested():  # the unique invitation: a second answer stops here
            session.add(feedback)
            session.flush()
    except IntegrityError:
        if invitation is not None and _answered(session, invitation.id):
            raise InvalidInput("invitation_id", "this survey was answered already") from None
        raise InvalidInput("feedback", "refused by the database") from None
    follow_up(session, customer, feedback)
    return feedback


def _answered(session: Session, invitation_id: int) -> bool:
    query = sa.select(Feedback.id).where(Feedback.invitation_id == invitation_id)
    return session.scalar(query) is not None


def needs_follow_up(feedback: Feedback) -> str | None:
    """The kind of follow-up task this answer calls for, if any."""
    if feedback.score is None:
        return None
    if feedback.kind == "nps" and feedback.score <= DETRACTOR_MAX:
        return "detractor call"
    if feedback.kind == "csat" and feedback.score <= LOW_CSAT_MAX:
        return "low csat follow-up"
    return None


def follow_up(session: Session, customer: Customer, feedback: Feedback) -> Task | None:
    """A detractor's or a low CSAT's task for the owner (never twice for one answer)."""
    from keepwell.tasks.service import create_task

    kind = needs_follow_up(feedback)
    if kind is None:
        return None
    who = customer.name or f"customer #{customer.id}"
    if feedback.kind == "nps":
        reason = (
            f"{who} scored us {feedback.score} out of 10 (a detractor): call to listen, "
            "and agree what we will do about it."
        )
    else:
        reason = (
            f"{who} rated their satisfaction {feedback.score} out of 5: find out what went "
            "wrong and put it right."
        )
    if feedback.verbatim:
        context = f"In their words: “{feedback.verbatim}”"
    else:
        context = "They left no comment: ask what went wrong."
    return create_task(
        session,
        customer,
        kind=kind,
        due_on=clock.today() + timedelta(days=FOLLOW_UP_DAYS),
        reason=reason,
        context=context,
        source="survey",
        dedupe_key=f"feedback:{feedback.id}",
        case_id=feedback.case_id,
    )
