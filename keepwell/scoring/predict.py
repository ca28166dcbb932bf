"""What scoring predicts per customer from a fitted model: expected purchases if still
a customer, per horizon, and the 12-month discounted lifetime value.

Both are computed once per distinct (frequency, T) pair, not once per customer: a million
customers have tens of thousands of such pairs.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from keepwell.analytics import BetaGeoFitter
from keepwell.analytics.model_base import TransactionModel

FloatArray = NDArray[np.float64]

CLV_MONTHS = 12
MONTHLY_DISCOUNT = 0.01
UNIT_DAYS = 7.0  # the models work in weeks, like the papers


def expected_if_alive(
    model: TransactionModel, horizons: list[float], x: FloatArray, big_t: FloatArray
) -> list[FloatArray]:
    """Expected purchases in the next `h` time units *if still alive*, for each horizon.

    For BG/NBD and Pareto/NBD alike, E[purchases | x, t_x, T] = P(alive | x, t_x, T) ×
    g(h, x, T): the recency only enters through P(alive). So g is computed once per
    distinct (x, T) — tens of thousands of pairs for a million customers — as
    E[· | x, t_x, T] / P(alive | x, t_x, T) at one valid t_x (T, or 0 when x = 0), and
    for BG/NBD through its closed form where that can be trusted.
    """
    pairs, inverse = np.unique(np.stack([x, big_t], axis=1), axis=0, return_inverse=True)
    px, pt = pairs[:, 0], pairs[:, 1]
    recency = np.where(px > 0, pt, 0.0)
    alive = model.conditional_probability_alive(px, recency, pt)

    def exact(h: float, rows: NDArray[np.bool_]) -> FloatArray:
        e = model.conditional_expected_number_of_purchases_up_to_time(
            h, px[rows], recency[rows], pt[rows]
        )
        result: FloatArray = e / alive[rows]
        return result

    result = []
    everything = np.ones(px.shape[0], dtype=bool)
    for h in horizons:
        g = _bgnbd_closed_form(model, h, px, pt) if isinstance(model, BetaGeoFitter) else None
        if g is None:
            g = exact(h, everything)
        else:
            unsafe = ~np.isfinite(g)
            if unsafe.any():
                g[unsafe] = exact(h, unsafe)
        result.append(g[inverse.ravel()])
    return result


def _bgnbd_closed_form(
    model: BetaGeoFitter, h: float, x: FloatArray, big_t: FloatArray
) -> FloatArray | None:
    """FHL (2005) eq. 10 without P(alive), through SciPy's 2F1 (fast in C): NaN where it
    cannot be trusted (not finite, or 1 - (…)·2F1 cancels), None when a is too close to 1.

    The analytic models avoid 2F1 because it breaks down for some customers (very many
    purchases, long horizons); here it is only a fast path: a spot check against the
    exact method on a sample decides whether it is used at all, and the rows it cannot
    handle take the exact method.
    """
    from scipy import special  # type: ignore[import-untyped]

    p = model.params_
    r, alpha, a, b = p["r"], p["alpha"], p["a"], p["b"]
    if abs(a - 1.0) < 1e-3:
        return None
    with np.errstate(all="ignore"):
        ratio = ((alpha + big_t) / (alpha + big_t + h)) ** (r + x)
        term = ratio * special.hyp2f1(r + x, b + x, a + b + x - 1.0, h / (alpha + big_t + h))
        g: FloatArray = (a + b + x - 1.0) / (a - 1.0) * (1.0 - term)
    bad = ~np.isfinite(g) | (np.abs(1.0 - term) < 1e-6) | (g <= 0)
    g[bad] = np.nan
    # spot check: a few hundred rows against the exact method
    rng = np.random.default_rng(0)
    check = np.flatnonzero(~bad)
    if check.shape[0]:
        check = rng.choice(check, size=min(256, check.shape[0]), replace=False)
        check = np.union1d(check, [int(np.argmax(np.where(bad, -1, x)))])
        rec = np.where(x[check] > 0, big_t[check], 0.0)
        ref = model.conditional_expected_number_of_purchases_up_to_time(
            h, x[check], rec, big_t[check]
        ) / model.conditional_probability_alive(x[check], rec, big_t[check])
        if not np.allclose(g[check], ref, rtol=1e-7, atol=0.0):
            return None
    return g


def lifetime_value(
    model: TransactionModel, x: FloatArray, rec: FloatArray, big_t: FloatArray, per: FloatArray
) -> FloatArray:
    """The 12-month discounted value, as `GammaGammaFitter.customer_lifetime_value` (the
    same sum over months of expected purchases × value / (1 + rate)^month), computed on
    distinct (x, T) pairs (see `expected_if_alive`)."""
    per_month = (365.25 / 12.0) / UNIT_DAYS
    months = [m * per_month for m in range(CLV_MONTHS + 1)]
    g = expected_if_alive(model, months[1:], x, big_t)
    discounted = np.zeros(x.shape[0])
    previous = np.zeros(x.shape[0])
    for month, cumulative in enumerate(g, start=1):
        discounted += (cumulative - previous) / (1.0 + MONTHLY_DISCOUNT) ** month
        previous = cumulative
    result: FloatArray = model.conditional_probability_alive(x, rec, big_t) * discounted * per
    return result
