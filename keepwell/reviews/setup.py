"""Account reviews' setup: who is a key account and how often they are reviewed (desk
settings), and the admin's own checklist questions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from keepwell.customers.models import Customer
from keepwell.db import get_or_raise, table_of
from keepwell.errors import InvalidInput, check_text
from keepwell.reviews.models import ReviewQuestion

DEFAULT_INTERVAL_DAYS = 90
DEFAULT_KEY_SEGMENTS: tuple[str, ...] = ("vip",)
MAX_INTERVAL_DAYS = 3660
MAX_QUESTION = 500
UNSET: Any = object()  # set_review_config: "not given" (None means "no minimum")


@dataclass(frozen=True)
class ReviewConfig:
    """Who is a key account (a segment listed, or revenue at least the minimum) and how
    many days pass between their reviews."""

    interval_days: int = DEFAULT_INTERVAL_DAYS
    key_segments: tuple[str, ...] = DEFAULT_KEY_SEGMENTS
    min_revenue_minor: int | None = None

    def __post_init__(self) -> None:
        days = self.interval_days
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 3660:
            raise InvalidInput("interval_days", f"give 1 to {MAX_INTERVAL_DAYS} days, not {days!r}")
        if any(not isinstance(s, str) or not s.strip() or len(s) > 100 for s in self.key_segments):
            raise InvalidInput("key_segments", "give segment names of 1 to 100 characters")
        if len(self.key_segments) > 100:
            raise InvalidInput("key_segments", "at most 100 segments")
        low = self.min_revenue_minor
        if low is not None and (not isinstance(low, int) or isinstance(low, bool) or low < 0):
            raise InvalidInput("min_revenue_minor", f"give a whole amount ≥ 0, not {low!r}")

    def key_account(self) -> sa.ColumnElement[bool]:
        """SQL: the customer (table `customers`) is a key account."""
        c = table_of(Customer)
        parts: list[sa.ColumnElement[bool]] = []
        if self.key_segments:
            parts.append(c.c.segment.in_(self.key_segments))
        if self.min_revenue_minor is not None:
            parts.append(c.c.revenue_minor >= self.min_revenue_minor)
        return sa.or_(*parts) if parts else sa.false()

    def to_dict(self) -> dict[str, Any]:
        return {
            "interval_days": self.interval_days,
            "key_segments": list(self.key_segments),
            "min_revenue_minor": self.min_revenue_minor,
        }


def review_config(session: Session) -> ReviewConfig:
    """The desk's review settings (their defaults when never changed)."""
    from keepwell.settings import service as settings

    segments = settings.get(session, "reviews.key_segments", list(DEFAULT_KEY_SEGMENTS))
    if not isinstance(segments, list):
        raise InvalidInput("reviews.key_segments", "the setting must be a list of segments")
    try:
        return ReviewConfig(
            interval_days=settings.get(session, "reviews.interval_days", DEFAULT_INTERVAL_DAYS),
            key_segments=tuple(segments),
            min_revenue_minor=settings.get(session, "reviews.min_revenue_minor", None),
        )
    except InvalidInput as exc:
        raise InvalidInput(f"reviews.{exc.field}", f"{exc.reason} (the stored setting)") from None


def set_review_config(
    session: Session,
    *,
    interval_days: int | None = None,
    key_segments: Sequence[str] | None = None,
    min_revenue_minor: int | None = UNSET,
) -> ReviewConfig:
    """Change the review settings (audited); what is not given stays."""
    from keepwell.settings import service as settings

    current = review_config(session)
    segments = current.key_segments
    if key_segments is not None:
        segments = tuple(sorted({s.strip().lower() for s in key_segments}))
    wanted = ReviewConfig(
        interval_days=current.interval_days if interval_days is None else interval_days,
        key_segments=segments,
        min_revenue_minor=(
            current.min_revenue_minor if min_revenue_minor is UNSET else min_revenue_minor
        ),
    )
    for name, value in wanted.to_dict().items():
        settings.put(session, f"reviews.{name}", value)
    return wanted


def list_questions(session: Session, *, include_inactive: bool = True) -> list[ReviewQuestion]:
    q = sa.select(ReviewQuestion).order_by(ReviewQuestion.position, ReviewQuestion.id)
    if not include_inactive:
        q = q.where(ReviewQuestion.active.is_(True))
    return list(session.scalars(q))


def add_question(session: Session, text: str, *, position: int | None = None) -> ReviewQuestion:
    """Add a question to every due review's checklist (after the built-in ones; at the
    end unless a position is given)."""
    if position is None:
        last = session.scalar(sa.select(sa.func.max(ReviewQuestion.position)))
        position = 0 if last is None else last + 1
    question = ReviewQuestion(
        text=question_text(text), active=True, position=checked_position(position)
    )
    session.add(question)
    session.flush()
    return question


def update_question(
    session: Session,
    question_id: int,
    *,
    text: str | None = None,
    active: bool | None = None,
    position: int | None = None,
) -> ReviewQuestion:
    question = get_or_raise(session, ReviewQuestion, question_id, "review question")
    if text is not None:
        question.text = question_text(text)
    if active is not None:
        question.active = active
    if position is not None:
        question.position = checked_position(position)
    session.flush()
    return question


def question_text(text: str) -> str:
    return check_text("text", text, MAX_QUESTION, required="say what to ask")


def checked_position(position: int) -> int:
    if not 0 <= position <= 10_000:
        raise InvalidInput("position", f"give 0 to 10000, not {position}")
    return position
