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
    # purchases made while alive, the first included: 1 + repeats until dropout (geometric)
    alive_for = np.minimum(rng.geometric(p), max_orders).astype(np.int64)
    # repeat purchases happen at Exp(λ) gaps; draw them all, keep those before the end
    repeats = alive_for - 1
    owner = np.repeat(np.arange(customers, dtype=np.int64), repeats)
    gaps = rng.exponential(1.0, owner.shape[0]) / lam[owner]
    starts = np.concatenate(([0], np.cumsum(repeats)[:-1]))
    cumulative = np.cumsum(gaps)
    offset = np.repeat(cumulative[starts - 1] * (starts > 0) if owner.size else [], repeats)
    times = first[owner] + (cumulative - offset)
    keep = times <= history_days
    ids = np.concatenate((np.arange(customers, dtype=np.int64), owner[keep]))
    days = np.concatenate((first, times[keep]))
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
    seed: int = 7,
) -> SyntheticSummary:
    """Per-customer summaries drawn straight from BG/NBD + Gamma-Gamma (no order list).

    Each customer is observed for T ~ Uniform(observation / 3, observation) time units
    (defaults: CDNOW's parameters and its 39 weeks), so a million customers take a second.
    """
    rng = np.random.default_rng(seed)
    big_t = rng.uniform(observation / 3.0, observation, customers)
    lam = rng.gamma(r, 1.0 / alpha, customers)
    p = rng.beta(a, b, customers)
    # the dropout happens right after purchase number K ~ Geometric(p) (counting repeats)
    k = rng.geometric(p) - 1  # repeat purchases the customer would make before leaving
    # repeat purchases in (0, T] of a Poisson(λ) process, stopped after k of them
    n = np.minimum(rng.poisson(lam * big_t), k)
    # given n Poisson events in (0, T], the last one is T * U^(1/n); recency 0 when n = 0
    with np.errstate(divide="ignore"):
        last = np.where(n > 0, big_t * rng.uniform(0, 1, customers) ** (1.0 / np.maximum(n, 1)), 0)
    # stopped after k purchases with k < Poisson count: the k-th purchase is the last
    stopped = n == k
    full = rng.poisson(lam * big_t)
    cut = stopped & (full > k) & (k > 0)
    # the k-th of `full` uniform points on (0, T]: Beta(k, full - k + 1) * T
    last = np.where(cut, big_t * rng.beta(np.maximum(k, 1), np.maximum(full - k, 0) + 1), last)
    nu = rng.gamma(spend_q, 1.0 / spend_v, customers)
    mean_value = np.where(
        n > 0, rng.gamma(spend_p * np.maximum(n, 1), 1.0) / (nu * np.maximum(n, 1)), 0.0
    )
    return SyntheticSummary(
        frequency=n.astype(np.float64),
        recency=np.minimum(last, big_t),
        T=big_t,
        monetary_value=mean_value,
    )
