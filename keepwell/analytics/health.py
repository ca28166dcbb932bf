"""The health score: 0-100, one number per customer that a team can act on.

It is a weighted mean of components, each between 0 (bad) and 1 (good). A component
without data for a customer (no orders yet, no survey answer) is left out of that
customer's mean, and the other weights share its place.

- activity (weight 40): 1 when the purchase model expects them to keep buying, 0 when it
  expects nothing more;
- contact (25): 1 when we spoke within their check-in cadence, falling to 0 at three
  cadences of silence;
- promises (15): 1 with no overdue promise to them, halving with each overdue one;
- cases (10): 1 with no open problem, halving with each open case (a resolved case not
  yet confirmed by the customer counts half);
- survey (10): their latest survey answer as a share of the best answer (an NPS answer
  out of 10; a CSAT answer of 1-5 as 0, 0.25, … 1);
- review (10): the latest account review — the share of its checklist answered "yes"
  ("partly" counts half), averaged with the share of the agreed goals met.

*Activity* is P(still active) for customers who bought more than once. For one-time
buyers that probability is 1 by construction under BG/NBD and says nothing, so it is
replaced by how many purchases the model expects from them in the next 90 days
compared with a customer who has just made a first purchase (1 on the day of the first
purchase, falling as the silence grows).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import ArrayLike, NDArray

from keepwell.errors import InvalidInput

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

CONTACT_ZERO_AT = 3.0  # cadences of silence at which the contact component reaches 0


@dataclass(frozen=True)
class HealthWeights:
    """Relative weights of the components (any non-negative numbers; they are normalised)."""

    activity: float = 40.0
    contact: float = 25.0
    promises: float = 15.0
    cases: float = 10.0
    survey: float = 10.0
    review: float = 10.0

    def __post_init__(self) -> None:
        values = [getattr(self, f.name) for f in fields(self)]
        if any(not math.isfinite(v) or v < 0 for v in values):
            raise InvalidInput("health weights", "weights must be non-negative numbers")
        if sum(values) <= 0:
            raise InvalidInput("health weights", "at least one weight must be positive")

    @classmethod
    def parse(cls, text: str) -> HealthWeights:
        """From "activity=50,contact=20,…" (components not named keep their default)."""
        names = {f.name for f in fields(cls)}
        given: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, sep, value = part.partition("=")
            name = name.strip()
            if not sep or name not in names:
                raise InvalidInput(
                    "health weights",
                    f"{part!r}: expected NAME=NUMBER, NAME one of " + ", ".join(sorted(names)),
                )
            try:
                given[name] = float(value)
            except ValueError:
                reason = f"{part!r}: {value!r} is not a number"
                raise InvalidInput("health weights", reason) from None
        return cls(**given)


def contact_component(days_since_contact: ArrayLike, cadence_days: ArrayLike) -> FloatArray:
    """1 within the cadence, falling linearly to 0 at CONTACT_ZERO_AT cadences of silence."""
    days = np.asarray(days_since_contact, dtype=np.float64)
    cadence = np.maximum(np.asarray(cadence_days, dtype=np.float64), 1.0)
    over = days / cadence - 1.0
    result: FloatArray = np.clip(1.0 - over / (CONTACT_ZERO_AT - 1.0), 0.0, 1.0)
    return result


def halving(count: ArrayLike) -> FloatArray:
    """0.5 ** count: 1 with nothing outstanding, halving with each item."""
    result: FloatArray = np.power(0.5, np.asarray(count, dtype=np.float64))
    return result


def health_score(
    *,
    activity: ArrayLike,
    days_since_contact: ArrayLike,
    cadence_days: ArrayLike,
    overdue_promises: ArrayLike,
    open_cases: ArrayLike,
    unconfirmed_cases: ArrayLike,
    survey: ArrayLike | None = None,
    review: ArrayLike | None = None,
    weights: HealthWeights | None = None,
) -> IntArray:
    """Health 0-100 per customer. `activity` (0..1), `survey` (0..10) and `review` (0..1)
    may hold NaN where there is no data; those components are then left out for that
    customer."""
    w = weights or HealthWeights()
    act = np.asarray(activity, dtype=np.float64)
    n = act.shape[0]
    parts: list[tuple[float, FloatArray]] = [
        (w.activity, np.clip(act, 0.0, 1.0)),
        (w.contact, contact_component(days_since_contact, cadence_days)),
        (w.promises, halving(overdue_promises)),
        (
            w.cases,
            halving(
                np.asarray(open_cases, dtype=np.float64)
                + 0.5 * np.asarray(unconfirmed_cases, dtype=np.float64)
            ),
        ),
    ]
    if survey is not None:
        parts.append((w.survey, np.clip(np.asarray(survey, dtype=np.float64) / 10.0, 0.0, 1.0)))
    if review is not None:
        parts.append((w.review, np.clip(np.asarray(review, dtype=np.float64), 0.0, 1.0)))
    total = np.zeros(n)
    weight = np.zeros(n)
    for wi, value in parts:
        value = np.broadcast_to(value, (n,))
        known = ~np.isnan(value)
        total += np.where(known, wi * np.nan_to_num(value), 0.0)
        weight += np.where(known, wi, 0.0)
    score = np.where(weight > 0, total / np.maximum(weight, 1e-12), 0.5)
    result: IntArray = np.rint(100.0 * score).astype(np.int64)
    return result
