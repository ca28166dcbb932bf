"""Surveys and feedback: invite, answer (by link or by hand), rate the relationship; act
on feedback and tell the customer what we did (closing the loop); the list; the latest
scores for health and lifecycle.

The loop of a piece of feedback is closed only when the customer was told
(`Feedback.told_at`). An action ("changed our courier") can answer many pieces of
feedback; closing it tells every customer whose loop is still open, one logged
interaction each, and closes each of their loops.

A detractor (NPS 0-6) or a low CSAT (1-2) opens a follow-up task for the customer's
owner, due within two days, with the customer's own words as its context.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.accounts.models import TeamMember
from keepwell.analytics.nps import DETRACTOR_MAX, LOW_CSAT_MAX
from keepwell.cases.models import Case
from keepwell.customers.models import Customer
from keepwell.db import flush_or_conflict
from keepwell.errors import InvalidInput, KeepwellError, NotFound, check_choice, check_limit
from keepwell.errors import require_aware as _require_aware
from keepwell.feedback import links
from keepwell.feedback.models import (
    CUSTOMER_CATEGORIES,
    KINDS,
    OUR_CATEGORIES,
    RATING_RANGE,
    SCORE_RANGES,
    SOURCES,
    SURVEY_KINDS,
    Feedback,
    FeedbackAction,
    FeedbackActionLink,
    SurveyInvitation,
)
from keepwell.orders.models import Order
from keepwell.tasks.models import Task
from keepwell.touches.models import CHANNELS
from keepwell.touches.service import log_touch

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
    found = session.get(Feedback, feedback_id)
    if found is None:
        raise NotFound(f"no feedback #{feedback_id}")
    return found


def get_action(session: Session, action_id: int) -> FeedbackAction:
    found = session.get(FeedbackAction, action_id)
    if found is None:
        raise NotFound(f"no feedback action #{action_id}")
    return found


def get_invitation(session: Session, invitation_id: int) -> SurveyInvitation:
    found = session.get(SurveyInvitation, invitation_id)
    if found is None:
        raise NotFound(f"no survey invitation #{invitation_id}")
    return found


# --- invitations and links -----------------------------------------------------------


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
    _check_context(session, customer, case_id, order_id)
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
    customer = _customer(session, invitation.customer_id)
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
    customer = _customer(session, invitation.customer_id)
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


# --- answers ----------------------------------------------------------------------------


def check_answer(
    kind: str, score: int | None, ratings: Mapping[str, int] | None, verbatim: str
) -> tuple[int | None, dict[str, int] | None, str]:
    """The answer, checked for its kind: a score for NPS and CSAT, a rating of every
    category for scorecards. Raises InvalidInput naming the field."""
    check_choice("kind", kind, KINDS)
    if not isinstance(verbatim, str):
        raise InvalidInput("verbatim", "give text")
    verbatim = verbatim.strip()
    if len(verbatim) > MAX_VERBATIM:
        raise InvalidInput("verbatim", f"longer than {MAX_VERBATIM:,} characters")
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
    when = _moment("answered_at", answered_at, now)
    _check_context(session, customer, case_id, order_id)
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
    when = _moment("at", at, clock.now())
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


# --- closing the loop ---------------------------------------------------------------------


def add_action(
    session: Session,
    what: str,
    feedback: Sequence[Feedback] = (),
    *,
    member: TeamMember | None = None,
) -> FeedbackAction:
    """Record what we do about some feedback ("changed our courier"), linked to it."""
    what = " ".join(what.split()) if isinstance(what, str) else ""
    if not what:
        raise InvalidInput("what", "say what was done, or will be")
    if len(what) > MAX_WHAT:
        raise InvalidInput("what", f"longer than {MAX_WHAT:,} characters")
    action = FeedbackAction(
        what=what, member_id=member.id if member is not None else None, created_at=clock.now()
    )
    session.add(action)
    session.flush()
    link(session, action, feedback)
    return action


def link(session: Session, action: FeedbackAction, feedback: Sequence[Feedback]) -> int:
    """Link more feedback to the action (ones linked already are left as they are);
    returns how many links are new."""
    if len(feedback) > MAX_LINKED:
        raise InvalidInput("feedback_ids", f"at most {MAX_LINKED} at once")
    have = set(linked_ids(session, action.id))
    added = 0
    now = clock.now()
    for item in feedback:
        if item.id in have:
            continue
        have.add(item.id)
        session.add(FeedbackActionLink(action_id=action.id, feedback_id=item.id, linked_at=now))
        added += 1
    session.flush()
    return added


def feedback_by_ids(
    session: Session, ids: Iterable[int], field: str = "feedback_ids"
) -> list[Feedback]:
    """The feedback these ids name, in the order given; an unknown id is bad input."""
    wanted = list(dict.fromkeys(ids))
    if len(wanted) > MAX_LINKED:
        raise InvalidInput(field, f"at most {MAX_LINKED} at once")
    found = {f.id: f for f in session.scalars(sa.select(Feedback).where(Feedback.id.in_(wanted)))}
    missing = [i for i in wanted if i not in found]
    if missing:
        raise InvalidInput(field, f"no feedback #{missing[0]}")
    return [found[i] for i in wanted]


def linked_ids(session: Session, action_id: int) -> list[int]:
    query = (
        sa.select(FeedbackActionLink.feedback_id)
        .where(FeedbackActionLink.action_id == action_id)
        .order_by(FeedbackActionLink.feedback_id)
    )
    return list(session.scalars(query))


def actions_of(session: Session, feedback_id: int) -> list[FeedbackAction]:
    """The actions linked to one piece of feedback, oldest first."""
    query = (
        sa.select(FeedbackAction)
        .join(FeedbackActionLink, FeedbackActionLink.action_id == FeedbackAction.id)
        .where(FeedbackActionLink.feedback_id == feedback_id)
        .order_by(FeedbackAction.created_at, FeedbackAction.id)
    )
    return list(session.scalars(query))


def tell(
    session: Session,
    feedback: Feedback,
    *,
    note: str,
    channel: str = "email",
    member: TeamMember | None = None,
    at: datetime | None = None,
) -> Feedback:
    """The customer was told what we did about their feedback: the loop closes, and
    the telling is logged as an outbound interaction (on their timeline)."""
    if feedback.told_at is not None:
        raise InvalidInput(
            "feedback", f"the customer was told already on {feedback.told_at:%Y-%m-%d}"
        )
    note = _note(note)
    if not note:
        raise InvalidInput("note", "say what the customer was told")
    channel = _channel(channel)
    when = _moment("at", at, clock.now())
    customer = _customer(session, feedback.customer_id)
    _tell_customer(session, customer, [feedback], note, channel, member, when)
    return feedback


@dataclass(frozen=True)
class Closed:
    """What closing an action did: the feedback whose loops it closed, and the
    customers it told (one interaction each); `already` were told before."""

    action: FeedbackAction
    told: list[Feedback]
    customers: int
    already: int


def close_action(
    session: Session,
    action: FeedbackAction,
    *,
    note: str = "",
    channel: str = "email",
    member: TeamMember | None = None,
    at: datetime | None = None,
) -> Closed:
    """The action is done: tell every customer whose linked feedback is still open
    (one logged interaction per customer), closing each of those loops.

    Closing again tells those linked since; with nobody left to tell it is refused.
    """
    note = _note(note)
    channel = _channel(channel)
    when = _moment("at", at, clock.now())
    ids = linked_ids(session, action.id)
    if not ids:
        raise InvalidInput("action", f"action #{action.id} answers no feedback: link some first")
    items = list(
        session.scalars(
            sa.select(Feedback)
            .where(Feedback.id.in_(ids))
            .order_by(Feedback.customer_id, Feedback.id)
            .with_for_update()
        )
    )
    waiting = [f for f in items if f.told_at is None]
    if not waiting and action.done_at is not None:
        raise InvalidInput("action", f"action #{action.id} is closed and everyone was told")
    message = action.what + (f" — {note}" if note else "")
    by_customer: dict[int, list[Feedback]] = {}
    for item in waiting:
        by_customer.setdefault(item.customer_id, []).append(item)
    for customer_id, theirs in by_customer.items():
        customer = session.get(Customer, customer_id, with_for_update=True)
        if customer is None:
            raise NotFound(f"no customer #{customer_id}")
        _tell_customer(session, customer, theirs, message, channel, member, when)
    if action.done_at is None:
        action.done_at = when
    flush_or_conflict(session, "feedback action")
    return Closed(action, waiting, len(by_customer), len(items) - len(waiting))


def _tell_customer(
    session: Session,
    customer: Customer,
    items: list[Feedback],
    note: str,
    channel: str,
    member: TeamMember | None,
    when: datetime,
) -> None:
    about = ", ".join(_describe_score(f) for f in items)
    touch = log_touch(
        session,
        customer,
        channel=channel,
        summary=f"Told them what we did about their feedback ({about}): {note}",
        member=member,
        direction="outbound",
        happened_at=when,
    )
    for item in items:
        item.told_at = when
        item.told_channel = channel
        item.told_note = note
        item.told_by_id = member.id if member is not None else None
        item.told_touch_id = touch.id
    flush_or_conflict(session, "feedback")


def _describe_score(feedback: Feedback) -> str:
    label = LABELS.get(feedback.kind, feedback.kind)
    if feedback.score is not None:
        high = SCORE_RANGES[feedback.kind][1]
        return f"{label} {feedback.score}/{high}"
    return f"{label} of {feedback.answered_at:%Y-%m-%d}"


# --- the list ------------------------------------------------------------------------------

LOOPS = ("open", "closed")


@dataclass(frozen=True)
class FeedbackFilter:
    """One definition of the feedback list, for the CLI and the API.

    Scores bound NPS and CSAT answers (scorecards have none, and drop out when a bound
    is given). `owner_id` is the customer's point person; `loop` open or closed;
    `since` answered at or after. Newest first.
    """

    kind: str | None = None
    min_score: int | None = None
    max_score: int | None = None
    customer_id: int | None = None
    owner_id: int | None = None
    loop: str | None = None
    since: datetime | None = None
    limit: int = 50

    def __post_init__(self) -> None:
        check_choice("kind", self.kind, KINDS)
        check_choice("loop", self.loop, LOOPS)
        check_limit(self.limit, MAX_LIMIT)
        for name in ("min_score", "max_score"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 10:
                raise InvalidInput(name, f"give 0 to 10, not {value}")
        if (
            self.min_score is not None
            and self.max_score is not None
            and self.min_score > self.max_score
        ):
            raise InvalidInput("max_score", "must not be below min_score")
        if self.since is not None:
            _require_aware("since", self.since)

    def query(self) -> sa.Select[Feedback]:
        q = sa.select(Feedback)
        if self.kind is not None:
            q = q.where(Feedback.kind == self.kind)
        if self.min_score is not None:
            q = q.where(Feedback.score >= self.min_score)
        if self.max_score is not None:
            q = q.where(Feedback.score <= self.max_score)
        if self.customer_id is not None:
            q = q.where(Feedback.customer_id == self.customer_id)
        if self.owner_id is not None:
            owned = sa.select(Customer.id).where(Customer.owner_id == self.owner_id)
            q = q.where(Feedback.customer_id.in_(owned))
        if self.loop == "open":
            q = q.where(Feedback.told_at.is_(None))
        elif self.loop == "closed":
            q = q.where(Feedback.told_at.is_not(None))
        if self.since is not None:
            q = q.where(Feedback.answered_at >= self.since)
        return q.order_by(Feedback.answered_at.desc(), Feedback.id.desc()).limit(self.limit)


def list_feedback(session: Session, filters: FeedbackFilter) -> list[Feedback]:
    return list(session.scalars(filters.query()))


def describe(session: Session, items: Sequence[Feedback]) -> list[dict[str, Any]]:
    """Feedback as plain data with the customer's name and owner and the actions
    linked (for JSON and tables alike): four queries, however many."""
    customer_ids = {f.customer_id for f in items}
    customers: dict[int, tuple[str, int | None]] = {}
    if customer_ids:
        query = sa.select(Customer.id, Customer.name, Customer.owner_id).where(
            Customer.id.in_(customer_ids)
        )
        customers = {cid: (name, owner) for cid, name, owner in session.execute(query)}
    member_ids = {o for _, o in customers.values() if o is not None}
    member_ids |= {f.told_by_id for f in items if f.told_by_id is not None}
    member_ids |= {f.member_id for f in items if f.member_id is not None}
    emails: dict[int, str] = {}
    if member_ids:
        query2 = sa.select(TeamMember.id, TeamMember.email).where(TeamMember.id.in_(member_ids))
        emails = {mid: email for mid, email in session.execute(query2)}
    actions: dict[int, list[int]] = {}
    if items:
        query3 = sa.select(FeedbackActionLink.feedback_id, FeedbackActionLink.action_id).where(
            FeedbackActionLink.feedback_id.in_([f.id for f in items])
        )
        for feedback_id, action_id in session.execute(query3):
            actions.setdefault(feedback_id, []).append(action_id)

    def email(member_id: int | None) -> str | None:
        return emails.get(member_id) if member_id is not None else None

    return [
        {
            "id": f.id,
            "customer_id": f.customer_id,
            "customer": customers.get(f.customer_id, ("", None))[0],
            "owner": email(customers.get(f.customer_id, ("", None))[1]),
            "kind": f.kind,
            "score": f.score,
            "ratings": f.ratings,
            "verbatim": f.verbatim,
            "answered_at": f.answered_at.isoformat(),
            "source": f.source,
            "invitation_id": f.invitation_id,
            "recorded_by": email(f.member_id),
            "case_id": f.case_id,
            "order_id": f.order_id,
            "loop": "closed" if f.told_at is not None else "open",
            "told_at": f.told_at.isoformat() if f.told_at else None,
            "told_channel": f.told_channel,
            "told_note": f.told_note,
            "told_by": email(f.told_by_id),
            "action_ids": sorted(actions.get(f.id, [])),
            "version": f.version,
        }
        for f in items
    ]


def scorecards(session: Session, customer: Customer) -> dict[str, Any]:
    """Both sides of the two-way scorecard, the latest of each, side by side."""

    def latest(kind: str) -> Feedback | None:
        return session.scalar(
            sa.select(Feedback)
            .where(Feedback.customer_id == customer.id, Feedback.kind == kind)
            .order_by(Feedback.answered_at.desc(), Feedback.id.desc())
            .limit(1)
        )

    def side(found: Feedback | None, categories: dict[str, str]) -> dict[str, Any] | None:
        if found is None:
            return None
        ratings = found.ratings or {}
        values = [ratings[c] for c in categories if c in ratings]
        return {
            "feedback_id": found.id,
            "answered_at": found.answered_at.isoformat(),
            "ratings": {c: ratings.get(c) for c in categories},
            "labels": categories,
            "mean": round(sum(values) / len(values), 2) if values else None,
            "comment": found.verbatim,
        }

    return {
        "customer_id": customer.id,
        "customer": customer.name,
        "theirs": side(latest("scorecard"), CUSTOMER_CATEGORIES),
        "ours": side(latest("relationship"), OUR_CATEGORIES),
    }


# --- for health and lifecycle ------------------------------------------------------------


def latest_scores(
    session: Session, customer_ids: Iterable[int], *, kinds: tuple[str, ...] = ("nps", "csat")
) -> dict[int, tuple[str, int, datetime]]:
    """Each customer's newest scored answer of `kinds`: (kind, score, answered_at).

    Customers without one are left out. Pass kinds=("nps",) for the latest NPS only
    (a promoter is an advocate).
    """
    for kind in kinds:
        check_choice("kinds", kind, tuple(SCORE_RANGES))
    ids = sorted(set(customer_ids))
    result: dict[int, tuple[str, int, datetime]] = {}
    for start in range(0, len(ids), 900):
        part = ids[start : start + 900]
        rank = (
            sa.func.row_number()
            .over(
                partition_by=Feedback.customer_id,
                order_by=(Feedback.answered_at.desc(), Feedback.id.desc()),
            )
            .label("rank")
        )
        inner = (
            sa.select(
                Feedback.customer_id, Feedback.kind, Feedback.score, Feedback.answered_at, rank
            )
            .where(
                Feedback.customer_id.in_(part),
                Feedback.kind.in_(kinds),
                Feedback.score.is_not(None),
            )
            .subquery()
        )
        query = sa.select(inner.c.customer_id, inner.c.kind, inner.c.score, inner.c.answered_at)
        for customer_id, kind, score, answered_at in session.execute(
            query.where(inner.c.rank == 1)
        ):
            result[customer_id] = (kind, int(score), _aware(answered_at))
    return result


# --- helpers ----------------------------------------------------------------------------


def _aware(moment: datetime) -> datetime:
    """A timestamp read through a subquery (SQLite gives it back naive): UTC-aware."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _customer(session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer #{customer_id}")
    return customer


def _check_context(
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


def _moment(field: str, moment: datetime | None, now: datetime) -> datetime:
    if moment is None:
        return now
    _require_aware(field, moment)
    if moment > now + FUTURE_SLACK:
        raise InvalidInput(field, "cannot be in the future")
    return moment


def _note(text: str) -> str:
    if not isinstance(text, str):
        raise InvalidInput("note", "give text")
    text = text.strip()
    if len(text) > MAX_NOTE:
        raise InvalidInput("note", f"longer than {MAX_NOTE:,} characters")
    return text


def _channel(channel: str) -> str:
    value = channel.strip().lower() if isinstance(channel, str) else ""
    if value not in CHANNELS:
        raise InvalidInput("channel", f"use one of {', '.join(CHANNELS)}, not {channel!r}")
    return value
