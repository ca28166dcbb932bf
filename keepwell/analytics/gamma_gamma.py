"""Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV"): each customer's typical order
value, blending their own average with the shop's, and a lifetime value with a
purchase model.
"""

from __future__ import annotations

import math
from typing import Self

import numpy as np
from numpy.typing import ArrayLike

from keepwell.analytics import gamma_fn as special
from keepwell.analytics.model_base import (
    MIN_CUSTOMERS,
    BaseFitter,
    FloatArray,
    InsufficientData,
    TransactionModel,
    dot,
    float_array,
    maximise,
    weights_of,
)

# --------------------------------------------------------------------------- Gamma-Gamma


class GammaGammaFitter(BaseFitter):
    """Gamma-Gamma spend model (Fader, Hardie & Lee 2005; Fader & Hardie note)."""

    param_names = ("p", "q", "v")

    def fit(
        self,
        frequency: ArrayLike,
        monetary_value: ArrayLike,
        weights: ArrayLike | None = None,
    ) -> Self:
        """Fit on the repeat customers (frequency > 0) with a positive average value.

        `monetary_value` is each customer's average repeat-purchase value. A model of
        spend says nothing about a customer who spent nothing: repeat customers whose
        repeat purchases were all free (samples, 100 % discounts) are left out of the
        fit, like one-time buyers, and get the population mean when predicting.
        """
        x = float_array("frequency", frequency)
        mv = float_array("monetary_value", monetary_value)
        x, mv = (a.ravel() for a in np.broadcast_arrays(x, mv))
        w = weights_of(weights, x.shape[0])
        keep = (x > 0) & (mv > 0) & (w > 0)
        x, mv, w = x[keep], mv[keep], w[keep]
        total = float(w.sum())
        if total < MIN_CUSTOMERS:
            raise InsufficientData(
                f"Gamma-Gamma: needs at least {MIN_CUSTOMERS} repeat customers who spent "
                f"something, got {total:g}"
            )
        # Only log(v + m x) needs a pass over the customers; the gamma functions depend
        # on x alone (once per distinct x) and the rest is linear in p with fixed sums.
        ux, ix = np.unique(x, return_inverse=True)
        wx = np.bincount(ix, weights=w, minlength=ux.shape[0])
        log_m, log_x = np.log(mv), np.log(x)
        wx_all = w * x
        fixed = dot(wx_all, log_m + log_x)  # sum w x (log m + log x)
        w_log_m = dot(w, log_m)
        mx = mv * x

        def neg_mean_ll(theta: FloatArray) -> tuple[float, FloatArray]:
            p, q, v = np.exp(theta)
            pux = p * ux
            log_vm = np.log(v + mx)
            wx_log_vm = dot(wx_all, log_vm)
            w_log_vm = dot(w, log_vm)
            ll = dot(wx, special.gammaln(pux + q) - special.gammaln(pux))
            ll += p * fixed - w_log_m - p * wx_log_vm - q * w_log_vm
            ll += total * (q * math.log(v) - special.gammaln(q))
            psi_pq = special.digamma(pux + q)
            g_p = dot((wx * ux), psi_pq - special.digamma(pux)) + fixed - wx_log_vm
            g_q = dot(wx, psi_pq) - w_log_vm + total * (math.log(v) - special.digamma(q))
            g_v = total * q / v - dot(w, (p * x + q) / (v + mx))
            grad = np.array([g_p * p, g_q * q, g_v * v])
            return -ll / total, -grad / total

        x0 = np.array([0.0, 0.0, math.log(dot(w, mv) / total)])
        theta = maximise("Gamma-Gamma", neg_mean_ll, x0, self.param_names)
        value, _ = neg_mean_ll(theta)
        self._store(theta, -value * total, total)
        return self

    def conditional_expected_average_profit(
        self, frequency: ArrayLike, monetary_value: ArrayLike
    ) -> FloatArray:
        """E[average order value | x, m_x] = (p v + p x m_x) / (p x + q - 1).

        Customers with frequency 0 get the population mean p v / (q - 1), and so do
        repeat customers with no positive value (left out of the fit, see `fit`).
        """
        p, q, v = self._values()
        if q <= 1.0:
            raise ValueError("the fitted q is <= 1: the mean order value is not defined")
        x = float_array("frequency", frequency)
        mv = float_array("monetary_value", monetary_value)
        x = np.where(mv > 0, x, 0.0)
        result: FloatArray = (p * v + p * x * mv) / (p * x + q - 1.0)
        return result

    def customer_lifetime_value(
        self,
        transaction_model: TransactionModel,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        monetary_value: ArrayLike,
        time_months: int = 12,
        discount_rate: float = 0.01,
        freq_unit_days: float = 7.0,
    ) -> FloatArray:
        """Discounted value of each customer's purchases over the next `time_months` months.

        As in `lifetimes`: sum over months i = 1..time_months of (expected purchases in
        month i) x (expected average profit) / (1 + discount_rate)^i, where
        `discount_rate` is monthly and a month is 365.25/12 days (`lifetimes` uses
        4.345 weeks; 30.4375 days = 4.348 weeks). `freq_unit_days` is the length of the
        model's time unit in days (7 for weeks, 1 for days).
        """
        if time_months < 1:
            raise ValueError("time_months must be at least 1")
        value = self.conditional_expected_average_profit(frequency, monetary_value)
        per_month = (365.25 / 12.0) / freq_unit_days
        clv: FloatArray = np.zeros(np.broadcast_shapes(value.shape, np.shape(T)))
        previous: FloatArray | float = 0.0
        for month in range(1, time_months + 1):
            cumulative = transaction_model.conditional_expected_number_of_purchases_up_to_time(
                month * per_month, frequency, recency, T
            )
            clv = clv + value * (cumulative - previous) / (1.0 + discount_rate) ** month
            previous = cumulative
        return clv
