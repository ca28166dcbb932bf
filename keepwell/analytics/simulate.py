"""Synthetic customer bases drawn from the BG/NBD and Gamma-Gamma stories.

Pure NumPy: used by benchmarks (a million customers in a second) and by tests that
check a fit recovers the parameters it was drawn from. Time is in days.

The story (Fader, Hardie & Lee 2005): each customer buys at their own Poisson rate
λ ~ Gamma(r, scale 1/alpha) while alive; after every purchase they leave for good with
their own probability p ~ Beta(a, b). Each purchase is worth a Gamma-distributed amount
around the customer's own mean (Gamma-Gamma: ν ~ Gamma(q, scale 1/v), value ~
Gamma(p_shape, scale 1/ν)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class SyntheticOrders:
    """One row per order, sorted by customer then time; days since `start` of the history."""

    customer_ids: IntArray  # 1..customers
    days: FloatArray  # fractional days since the start of the history
    amounts: FloatArray  # currency units
    customers: int
    history_days: float


@dataclass(frozen=True)
class SyntheticSummary:
    """Per-customer (frequency, recency, T) and mean repeat value, as a summary would give."""

    frequency: FloatArray
    recency: FloatArray
    T: FloatArray
    monetary_value: FloatArray


def _repeat_times(
    rng: np.random.Generator,
    lam: FloatArray,
    p: FloatArray,
    horizon: FloatArray,
    max_orders: int,
) -> tuple[IntArray, FloatArray]:
    """Repeat purchases of each customer within `horizon` after their first purchase.

    While alive a customer buys at Exp(λ) gaps; after each repeat purchase they leave
    with probability p (BG/NBD: never right after the first), so they make at most
    Geometric(p) repeat purchases.
    Returns (customer index, time since first purchase) per repeat purchase, grouped by
    customer in time order.
    """
    repeats = np.minimum(rng.geometric(p), max_orders - 1).astype(np.int64)
    owner = np.repeat(np.arange(lam.shape[0], dtype=np.int64), repeats)
    if owner.shape[0] == 0:
        return owner, np.zeros(0, dtype=np.float64)
    gaps = rng.exponential(1.0, owner.shape[0]) / lam[owner]
    # a gap past the horizon ends the customer's purchases: clip it, so the running sum
    # over all customers stays small and exact enough to subtract
    gaps = np.minimum(gaps, horizon[owner] + 1.0)
    cumulative = np.cumsum(gaps)
    ends = np.cumsum(repeats)
    before = np.concatenate(([0.0], cumulative))[ends - repeats]  # total before each group
    times = cumulative - np.repeat(before, repeats)
    keep = times <= horizon[owner]
    return owner[keep], times[keep]


def bgnbd_orders(
    customers: int,
    *,
    r: float = 0.9,
    alpha: float = 40.0,
    a: float = 1.0,
    b: float = 6.0,
    history_days: float = 730.0,
    spend_p: float = 6.0,
    spend_q: float = 4.0,
    spend_v: float = 150.0,
    max_orders: int = 400,
    seed: int = 7,
) -> SyntheticOrders:
    """An order list: customers arrive uniformly over the history, then buy BG/NBD-style.

    `alpha` is in days. A customer makes at most `max_orders` orders (a bound on memory).
    """
    rng = np.random.default_rng(seed)
    first = rng.uniform(0.0, history_days, customers)
    lam = rng.gamma(r, 1.0 / alpha, customers)
    p = rng.beta(a, b, customers)
    owner, since = _repeat_times(rng, lam, p, history_days - first, max_orders)
    ids = np.concatenate((np.arange(customers, dtype=np.int64), owner))
    days = np.concatenate((first, first[owner] + since))
    order = np.lexsort((days, ids))
    ids, days = ids[order], days[order]
    nu = rng.gamma(spend_q, 1.0 / spend_v, customers)
    amounts = np.round(rng.gamma(spend_p, 1.0, ids.shape[0]) / nu[ids], 2)
    return SyntheticOrders(
        customer_ids=ids + 1,
        days=days,
        amounts=np.maximum(amounts, 0.01),
        customers=customers,
        history_days=history_days,
    )


def bgnbd_summary(
    customers: int,
    *,
    r: float = 0.243,
    alpha: float = 4.414,
    a: float = 0.793,
    b: float = 2.426,
    observation: float = 39.0,
    spend_p: float = 6.25,
    spend_q: float = 3.74,
    spend_v: float = 15.44,
    max_orders: int = 400,
    seed: int = 7,
) -> SyntheticSummary:
    """Per-customer summaries drawn from BG/NBD + Gamma-Gamma, in continuous time.

    Each customer is observed for T ~ Uniform(observation / 3, observation) time units
    after their first purchase (defaults: CDNOW's parameters and its 39 weeks).
    """
    rng = np.random.default_rng(seed)
    big_t = rng.uniform(observation / 3.0, observation, customers)
    lam = rng.gamma(r, 1.0 / alpha, customers)
    p = rng.beta(a, b, customers)
    owner, since = _repeat_times(rng, lam, p, big_t, max_orders)
    frequency = np.bincount(owner, minlength=customers).astype(np.float64)
    recency = np.zeros(customers)
    np.maximum.at(recency, owner, since)
    nu = rng.gamma(spend_q, 1.0 / spend_v, customers)
    n = np.maximum(frequency, 1.0)
    # the mean of n Gamma(p, ν) values is Gamma(n p, n ν)
    mean_value = np.where(frequency > 0, rng.gamma(spend_p * n, 1.0) / (n * nu), 0.0)
    return SyntheticSummary(
        frequency=frequency, recency=recency, T=big_t, monetary_value=mean_value
    )
