"""Retention and acquisition cohorts from (customer, period, value) purchase records.

Pure NumPy. A *period* is an integer (months since year 0: year * 12 + month - 1); a
customer is *active* in a period when they bought in it.

* **Retention** of period p: customers active in both p-1 and p, divided by those
  active in p-1; **churn** is one minus it. The **repeat-purchase rate** of a period
  is the share of its buyers who had bought before it.
* **Cohorts**: customers grouped by the period of their first purchase; cell (c, k)
  is the share of cohort c's customers who bought in the k-th period after it (k = 0
  is the first purchase, so 100 %), and the revenue they brought then.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def month_label(period: int) -> str:
    return f"{period // 12:04d}-{period % 12 + 1:02d}"


@dataclass(frozen=True)
class Activity:
    """Distinct (customer, period) purchase records, with the value bought in each."""

    customer: IntArray
    period: IntArray
    value: FloatArray

    @classmethod
    def of(cls, customer: ArrayLike, period: ArrayLike, value: ArrayLike | None = None) -> Activity:
        c = np.asarray(customer, dtype=np.int64)
        p = np.asarray(period, dtype=np.int64)
        v = np.zeros(c.shape[0]) if value is None else np.asarray(value, dtype=np.float64)
        if not (c.shape == p.shape == v.shape):
            raise ValueError("customer, period and value must have the same length")
        if c.shape[0] == 0:
            return cls(c, p, v)
        # merge duplicates (the same customer twice in a period)
        keys = np.stack([c, p], axis=1)
        unique, inverse = np.unique(keys, axis=0, return_inverse=True)
        summed = np.bincount(inverse.ravel(), weights=v, minlength=unique.shape[0]).astype(
            np.float64
        )
        return cls(unique[:, 0].copy(), unique[:, 1].copy(), summed)

    def first_period(self) -> IntArray:
        """Per record: the period of that customer's first purchase (records are sorted)."""
        start = np.flatnonzero(np.r_[True, self.customer[1:] != self.customer[:-1]])
        lengths = np.diff(np.r_[start, self.customer.shape[0]])
        result: IntArray = np.repeat(self.period[start], lengths)
        return result


@dataclass(frozen=True)
class Retention:
    periods: list[int]
    active: list[int]
    new: list[int]
    returning: list[int]  # active, and bought in an earlier period
    retained: list[int]  # active in this period and the one before
    retention: list[float | None]  # retained / active in the period before
    repeat_rate: list[float | None]  # returning / active
    overall_repeat_rate: float | None  # customers with purchases in 2+ periods / all


def retention(activity: Activity, first: int | None = None, last: int | None = None) -> Retention:
    """Retention, churn and repeat-purchase rate for each period from `first` to `last`."""
    if activity.customer.shape[0] == 0:
        return Retention([], [], [], [], [], [], [], None)
    lo = int(activity.period.min()) if first is None else first
    hi = int(activity.period.max()) if last is None else last
    span = hi - lo + 2
    c, p = activity.customer, activity.period
    key = c * span + (p - lo + 1)
    had_before = np.isin(key - 1, key)  # also active in the period just before
    first_p = activity.first_period()
    periods = list(range(lo, hi + 1))
    inside = (p >= lo) & (p <= hi)
    idx = (p - lo)[inside]
    n = len(periods)
    active = np.bincount(idx, minlength=n)
    new = np.bincount(idx, weights=(first_p == p)[inside], minlength=n).astype(int)
    retained = np.bincount(idx, weights=had_before[inside], minlength=n).astype(int)
    prior = [None, *active[:-1].tolist()]
    before_lo = int(np.unique(c[p == lo - 1]).shape[0]) if lo - 1 >= p.min() else 0
    prior[0] = before_lo or None
    counts = np.bincount(np.unique(c, return_inverse=True)[1])
    return Retention(
        periods=periods,
        active=active.tolist(),
        new=new.tolist(),
        returning=(active - new).tolist(),
        retained=retained.tolist(),
        retention=[r / a if a else None for r, a in zip(retained.tolist(), prior, strict=True)],
        repeat_rate=[
            (a - w) / a if a else None for a, w in zip(active.tolist(), new.tolist(), strict=True)
        ],
        overall_repeat_rate=float((counts > 1).mean()) if counts.size else None,
    )


@dataclass(frozen=True)
class Cohorts:
    cohorts: list[int]  # first-purchase periods
    sizes: list[int]
    share: list[list[float | None]]  # [cohort][k]: share buying k periods after (None: future)
    revenue: list[list[float | None]]  # [cohort][k]: value bought k periods after
    horizon: int


def cohorts(activity: Activity, last: int | None = None, horizon: int | None = None) -> Cohorts:
    """The acquisition-cohort matrix up to period `last` (default: the latest)."""
    if activity.customer.shape[0] == 0:
        return Cohorts([], [], [], [], 0)
    end = int(activity.period.max()) if last is None else last
    first_p = activity.first_period()
    keep = activity.period <= end
    first_p, period = first_p[keep], activity.period[keep]
    value = activity.value[keep]
    since = period - first_p
    start = int(first_p.min())
    width = end - start + 1 if horizon is None else min(horizon, end - start + 1)
    rows = end - start + 1
    cell = (first_p - start) * width + since
    ok = since < width
    buyers = np.bincount(cell[ok], minlength=rows * width).reshape(rows, width)
    money = np.bincount(cell[ok], weights=value[ok], minlength=rows * width).reshape(rows, width)
    sizes = buyers[:, 0]
    present = [i for i in range(rows) if sizes[i] > 0]
    share: list[list[float | None]] = []
    revenue: list[list[float | None]] = []
    for i in present:
        seen = end - (start + i) + 1  # periods of this cohort observed so far
        share.append([float(buyers[i, k] / sizes[i]) if k < seen else None for k in range(width)])
        revenue.append([float(money[i, k]) if k < seen else None for k in range(width)])
    return Cohorts(
        cohorts=[start + i for i in present],
        sizes=[int(sizes[i]) for i in present],
        share=share,
        revenue=revenue,
        horizon=width,
    )
