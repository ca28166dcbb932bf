"""Reading a customer's stored scores: the latest (with its explanation) and the trend."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from keepwell.scoring.models import Score


def score_history(
    session: Session, customer_id: int, *, until: date | None = None, limit: int = 12
) -> list[Score]:
    """The customer's newest `limit` scores (scored on or before `until`), newest first.

    One indexed range read (customer_id, scored_on)."""
    query = sa.select(Score).where(Score.customer_id == customer_id)
    if until is not None:
        query = query.where(Score.scored_on <= until)
    return list(session.scalars(query.order_by(Score.scored_on.desc()).limit(limit)))


def latest_score(session: Session, customer_id: int, *, until: date | None = None) -> Score | None:
    found = score_history(session, customer_id, until=until, limit=1)
    return found[0] if found else None
