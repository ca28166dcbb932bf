"""RFM: recency, frequency and monetary value as quintile scores, and named segments.

Each customer gets three scores from 1 to 5 (5 best): R from the days since their last
purchase (fewer is better), F from their number of purchase days, M from their average
purchase value. A score is the quintile of the share of customers the customer beats:
customers with the same value always get the same score (so when half the customers
bought once, they all get F = 1, and the next score starts above them).

The segment comes from R and F, on the usual grid:

| R \\ F | 1 | 2 | 3 | 4 | 5 |
|---|---|---|---|---|---|
| 5 | new | potential loyalist | potential loyalist | champions | champions |
| 4 | promising | potential loyalist | potential loyalist | loyal | loyal |
| 3 | about to sleep | about to sleep | need attention | loyal | loyal |
| 2 | hibernating | hibernating | at risk | at risk | can't lose |
| 1 | lost | hibernating | at risk | at risk | can't lose |
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

IntArray = NDArray[np.int64]

#: segment id -> (name, one sentence a shop owner can read)
SEGMENTS: dict[str, tuple[str, str]] = {
    "champions": ("Champions", "Bought recently, buy often: your best customers."),
    "loyal": ("Loyal", "Buy often, and not long ago."),
    "potential_loyalist": ("Potential loyalists", "Recent customers with a few purchases."),
    "new": ("New", "Bought for the first time, recently."),
    "promising": ("Promising", "Bought once, fairly recently."),
    "need_attention": ("Need attention", "Middling on both recency and frequency."),
    "about_to_sleep": ("About to sleep", "Few purchases, and the last one a while ago."),
    "at_risk": ("At risk", "Used to buy several times, but not for a long time."),
    "cant_lose": ("Can't lose them", "Among the most frequent buyers, but gone quiet."),
    "hibernating": ("Hibernating", "Few purchases, long ago."),
    "lost": ("Lost", "One purchase, long ago: the least recent and least frequent."),
}

# _GRID[r - 1][f - 1]
_GRID = (
    ("lost", "hibernating", "at_risk", "at_risk", "cant_lose"),
    ("hibernating", "hibernating", "at_risk", "at_risk", "cant_lose"),
    ("about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"),
    ("promising", "potential_loyalist", "potential_loyalist", "loyal", "loyal"),
    ("new", "potential_loyalist", "potential_loyalist", "champions", "champions"),
)


@dataclass(frozen=True, eq=False)
class RFM:
    """Per-customer scores (1..5) and segment ids, aligned with the input arrays."""

    r: IntArray
    f: IntArray
    m: IntArray
    segment: NDArray[np.str_]


def quantile_scores(values: ArrayLike, bins: int = 5, higher_is_better: bool = True) -> IntArray:
    """1..`bins` by the share of customers each one beats; ties share a score (so the
    many customers who bought once all get F = 1)."""
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError("values must be a 1-D array")
    n = x.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if not higher_is_better:
        x = -x
    ordered = np.sort(x)
    beaten = np.searchsorted(ordered, x, side="left") / n  # share of customers strictly below
    scores: IntArray = np.minimum(np.floor(beaten * bins).astype(np.int64) + 1, bins)
    return scores


def rfm(days_since_last: ArrayLike, purchase_days: ArrayLike, average_value: ArrayLike) -> RFM:
    """RFM scores and segments for customers who bought at least once."""
    r = quantile_scores(days_since_last, higher_is_better=False)
    f = quantile_scores(purchase_days)
    m = quantile_scores(average_value)
    grid = np.array(_GRID)
    segment = grid[r - 1, f - 1] if r.shape[0] else np.zeros(0, dtype="<U20")
    return RFM(r=r, f=f, m=m, segment=segment)
