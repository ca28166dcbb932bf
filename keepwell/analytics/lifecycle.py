"""Lifecycle stage on the post-sale hourglass, one rule per stage.

The first rule that applies decides (so a new customer is never "lapsed"):

- prospect: has not bought anything yet;
- onboarding: made their first purchase less than 30 days ago;
- lapsed: the model gives them little chance of buying again (activity under 0.15)
  and they have not bought for more than 90 days;
- at risk: activity under 0.5, or a repeat buyer silent for more than twice their
  usual gap between purchases;
- advocate: recommends us: a promoter (9 or 10 in their latest survey answer) or has
  referred a customer;
- repeat: has bought on three or more days;
- adopting: bought once or twice, past onboarding, and still active.

*Activity* is the health score's (see `keepwell.analytics.health`): P(active) for repeat
buyers, and for one-time buyers the expected purchases of the next 90 days compared
with a brand-new customer's, since under BG/NBD their P(active) is 1 by construction.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

ONBOARDING_DAYS = 30
LAPSED_ACTIVITY = 0.15
LAPSED_MIN_DAYS = 90
AT_RISK_ACTIVITY = 0.5
AT_RISK_GAPS = 2.0
REPEAT_DAYS = 3

#: the hourglass in order (prospect is before it), for reports and charts
HOURGLASS = ("onboarding", "adopting", "repeat", "advocate")
STAGES = ("prospect", *HOURGLASS, "at_risk", "lapsed")

RULES: dict[str, str] = {
    "prospect": "has not bought anything yet",
    "onboarding": f"made their first purchase less than {ONBOARDING_DAYS} days ago",
    "lapsed": (
        f"little chance of buying again (activity under {LAPSED_ACTIVITY:g}) and nothing "
        f"bought for more than {LAPSED_MIN_DAYS} days"
    ),
    "at_risk": (
        f"activity under {AT_RISK_ACTIVITY:g}, or silent for more than {AT_RISK_GAPS:g} times "
        "their usual gap between purchases"
    ),
    "advocate": "a promoter (9-10 in their latest survey) or has referred a customer",
    "repeat": f"has bought on {REPEAT_DAYS} or more days",
    "adopting": "bought once or twice, past onboarding, still active",
}


def lifecycle_stage(
    *,
    purchase_days: ArrayLike,
    days_since_first: ArrayLike,
    days_since_last: ArrayLike,
    usual_gap_days: ArrayLike,
    activity: ArrayLike,
    advocate: ArrayLike | None = None,
) -> NDArray[np.str_]:
    """The stage of each customer (see the module's table). `usual_gap_days` is NaN for
    customers with fewer than two purchase days; `activity` NaN for those with none."""
    days = np.asarray(purchase_days, dtype=np.float64)
    n = days.shape[0]
    first = np.asarray(days_since_first, dtype=np.float64)
    last = np.asarray(days_since_last, dtype=np.float64)
    gap = np.asarray(usual_gap_days, dtype=np.float64)
    act = np.asarray(activity, dtype=np.float64)
    promoter = np.zeros(n, dtype=bool) if advocate is None else np.asarray(advocate, dtype=bool)
    with np.errstate(invalid="ignore"):
        overdue = (days >= 2) & (last > AT_RISK_GAPS * np.nan_to_num(gap, nan=np.inf))
        conditions = [
            days <= 0,
            first < ONBOARDING_DAYS,
            (act < LAPSED_ACTIVITY) & (last > LAPSED_MIN_DAYS),
            (act < AT_RISK_ACTIVITY) | overdue,
            promoter,
            days >= REPEAT_DAYS,
        ]
    choices = ["prospect", "onboarding", "lapsed", "at_risk", "advocate", "repeat"]
    stage: NDArray[np.str_] = np.select(conditions, choices, default="adopting")
    return stage
