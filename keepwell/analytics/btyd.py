"""Buy-till-you-die customer models: who is still a customer, and what they are worth.

For a shop owner, in two sentences each:

* **BG/NBD** (`BetaGeoFitter`, Fader, Hardie & Lee 2005). Every customer buys at their
  own steady pace while they are a customer, and after each purchase there is a small
  chance they quietly never come back. From how often and how recently each customer
  bought, it estimates the chance they are still "alive" and how many purchases to
  expect from them in the coming weeks.
* **Pareto/NBD** (`ParetoNBDFitter`, Schmittlein, Morrison & Colombo 1987). Same idea,
  but a customer can drift away at any moment, not only right after a purchase. It is
  the classic model and usually agrees with BG/NBD; having both is a useful cross-check.
* **Gamma-Gamma** (`GammaGammaFitter`, Fader, Hardie & Lee 2005, "RFM and CLV"). Each
  customer has their own typical basket size around which their orders vary. It
  blends a customer's own average spend with the shop-wide average (trusting the
  customer's own more, the more often they bought) to give an expected order value,
  and with a purchase model a discounted customer lifetime value.

Inputs are per-customer arrays as produced by `keepwell.analytics.summary`:
``frequency`` (repeat purchase days), ``recency`` (first to last purchase) and ``T``
(first purchase to the end of the period), ``recency`` and ``T`` in one time unit
(weeks by convention). Fits are maximum likelihood over log-parameters (a bounded BFGS,
keepwell/analytics/optimiser.py, with an analytic gradient for BG/NBD and Gamma-Gamma;
no SciPy is loaded, see gamma_fn.py); identical customer rows are
collapsed into weights first (for Gamma-Gamma, terms are summed per distinct purchase
count instead), so a million customers fit in under half a second. All
likelihoods and predictions are evaluated in log space without SciPy's ``hyp2f1``
(see `keepwell.analytics._special`), so customers with thousands of purchases or very
long histories give finite results. `log_likelihood_` is the total over customers,
on the scale published in the papers.
"""

from __future__ import annotations

import math
from typing import Self

import numpy as np
from numpy.typing import ArrayLike

from keepwell.analytics import gamma_fn as special
from keepwell.analytics._special import log_beta_expectation
from keepwell.analytics.model_base import (
    RUNAWAY,
    FloatArray,
    TransactionModel,
    check_fit_data,
    collapse,
    dot,
    float_array,
    maximise,
    rft,
    start_scale,
    unique_rows,
    weights_of,
)

# --------------------------------------------------------------------------- BG/NBD


class BetaGeoFitter(TransactionModel):
    """BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way")."""

    param_names = ("r", "alpha", "a", "b")

    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        weights: ArrayLike | None = None,
    ) -> Self:
        """Maximum-likelihood fit; identical (frequency, recency, T) rows are merged first."""
        x, t, big_t, _ = rft(frequency, recency, T)
        w = weights_of(weights, x.shape[0])
        (x, t, big_t), w = collapse([x, t, big_t], w)
        check_fit_data("BG/NBD", x, w)
        total = float(w.sum())

        # Most terms depend on x, t or T alone: they are evaluated once per distinct value
        # and gathered; only the P(alive) term needs a pass over the (collapsed) rows.
        ux, ix = np.unique(x, return_inverse=True)
        wx = np.bincount(ix, weights=w, minlength=ux.shape[0])
        ubig_t, i_big_t = np.unique(big_t, return_inverse=True)
        w_big_t = np.bincount(i_big_t, weights=w, minlength=ubig_t.shape[0])
        wx_big_t = np.bincount(i_big_t, weights=w * x, minlength=ubig_t.shape[0])
        rep = x > 0
        xr, wr, ixr, i_big_tr = x[rep], w[rep], ix[rep], i_big_t[rep]
        ut, i_tr = np.unique(t[rep], return_inverse=True)
        ux_rep = np.maximum(ux - 1.0, 0.0)  # x - 1 for repeat buyers

        def neg_mean_ll(theta: FloatArray) -> tuple[float, FloatArray]:
            r, alpha, a, b = np.exp(theta)
            # terms that depend on x only, evaluated once per distinct x
            ll = dot(
                wx, special.gammaln(r + ux) + special.gammaln(b + ux) - special.gammaln(a + b + ux)
            )
            ll += total * (
                -special.gammaln(r)
                + r * math.log(alpha)
                + special.gammaln(a + b)
                - special.gammaln(b)
            )
            # -(r + x) log(alpha + T), summed per distinct T
            log_at = np.log(alpha + ubig_t)
            inv_at = 1.0 / (alpha + ubig_t)
            ll -= r * dot(w_big_t, log_at) + dot(wx_big_t, log_at)
            # repeat buyers: + log(1 + a/(b+x-1) ((alpha+T)/(alpha+t))^(r+x))
            log_a_t = np.log(alpha + ut)
            d = log_at[i_big_tr] - log_a_t[i_tr]  # log((alpha+T)/(alpha+t)) >= 0
            rx = r + xr
            z = rx * d - np.log(b + ux_rep)[ixr] + math.log(a)
            ll += dot(wr, np.logaddexp(0.0, z))
            ws = wr * special.expit(z)
            psi_x_r = special.digamma(r + ux)
            psi_x_b = special.digamma(b + ux)
            psi_x_ab = special.digamma(a + b + ux)
            g_r = (
                dot(wx, psi_x_r)
                + total * (-special.digamma(r) + math.log(alpha))
                - dot(w_big_t, log_at)
                + dot(ws, d)
            )
            g_alpha = (
                total * r / alpha
                - r * dot(w_big_t, inv_at)
                - dot(wx_big_t, inv_at)
                + dot(ws, rx * (inv_at[i_big_tr] - (1.0 / (alpha + ut))[i_tr]))
            )
            common_ab = total * special.digamma(a + b) - dot(wx, psi_x_ab)
            g_a = common_ab + float(ws.sum()) / a
            g_b = common_ab + dot(wx, psi_x_b) - total * special.digamma(b)
            ws_x = np.bincount(ixr, weights=ws, minlength=ux.shape[0])
            g_b -= dot(ws_x, 1.0 / (b + ux_rep))
            grad = np.array([g_r * r, g_alpha * alpha, g_a * a, g_b * b])
            return -ll / total, -grad / total

        scale = start_scale(x, big_t, w)
        x0 = np.array([0.0, math.log(scale), 0.0, 0.0])
        theta = maximise("BG/NBD", neg_mean_ll, x0, self.param_names, RUNAWAY)
        value, _ = neg_mean_ll(theta)
        self._store(theta, -value * total, total)
        return self

    def _log_p_alive(self, x: FloatArray, t: FloatArray, big_t: FloatArray) -> FloatArray:
        r, alpha, a, b = self._values()
        out = np.zeros(x.shape, dtype=np.float64)
        rep = x > 0
        xr = x[rep]
        z = (
            math.log(a)
            - np.log(b + xr - 1.0)
            + (r + xr) * np.log1p((big_t[rep] - t[rep]) / (alpha + t[rep]))
        )
        out[rep] = -np.logaddexp(0.0, z)
        return out

    def conditional_probability_alive(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """P(still a customer at T | frequency, recency, T)."""
        x, t, big_t, shape = rft(frequency, recency, T)
        return np.exp(self._log_p_alive(x, t, big_t)).reshape(shape)

    def _log_expected_if_alive(
        self, horizon: FloatArray, x: FloatArray, big_t: FloatArray
    ) -> FloatArray:
        """log E[purchases in (T, T+t] | alive at T] = log E_p[(1 - (1 + p k)^-(r+x)) / p].

        p ~ Beta(a, b + x) is the posterior dropout probability, k = t / (alpha + T).
        Equivalent to FHL (2005) eq. 10 without the 2F1 (which overflows for large x).
        """
        r, alpha, a, b = self._values()
        # only (t, x, T) matter: compute once per distinct combination
        (horizon, x, big_t), inverse = unique_rows([horizon, x, big_t])
        n = r + x
        k = horizon / (alpha + big_t)
        out = np.full(x.shape, -np.inf)
        pos = k > 0
        if not pos.any():
            return out[inverse]
        n, k, xp = n[pos], k[pos], x[pos]
        log_k = np.log(k)
        log_n = np.log(n)
        # g(p) <= n k; g(1) = 1 - (1 + k)^-n: how much bigger g gets in the tail
        spread = log_n + log_k - np.log(-np.expm1(-n * np.log1p(k)))
        out[pos] = log_beta_expectation(
            np.full(xp.shape, a), b + xp, _log_g_bgnbd, (log_n, log_k), spread
        )
        return out[inverse]

    def conditional_expected_number_of_purchases_up_to_time(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """Expected purchases in the next `t` time units, given the customer's history."""
        horizon = float_array("t", t)
        x, rec, big_t, shape = rft(frequency, recency, T)
        horizon, x, rec, big_t = np.broadcast_arrays(
            horizon, x.reshape(shape), rec.reshape(shape), big_t.reshape(shape)
        )
        shape = horizon.shape
        horizon, x, rec, big_t = (a.ravel() for a in (horizon, x, rec, big_t))
        log_e = self._log_p_alive(x, rec, big_t) + self._log_expected_if_alive(horizon, x, big_t)
        return np.exp(log_e).reshape(shape)

    def expected_number_of_purchases_up_to_time(self, t: ArrayLike) -> FloatArray:
        """Expected purchases of a new customer in their first `t` time units (FHL eq. 9)."""
        horizon = float_array("t", t)
        shape = horizon.shape
        h = horizon.ravel()
        zeros = np.zeros(h.shape, dtype=np.float64)
        return np.exp(self._log_expected_if_alive(h, zeros, zeros)).reshape(shape)


def _log_g_bgnbd(
    log_s: FloatArray, log_1ms: FloatArray, args: tuple[FloatArray, ...]
) -> FloatArray:
    """log of (1 - (1 + p k)^-n) / p with p = exp(log_s), stable from p = 1e-300 to 1."""
    log_n, log_k = args
    log_z = log_s + log_k
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        z = np.exp(log_z)
        # log(log1p(z)), exact also when z underflows (series for small z)
        log_log1p = np.where(
            z < 1e-8, log_z + np.log1p(-0.5 * np.minimum(z, 1e-8)), np.log(np.log1p(z))
        )
        log_w = log_n + log_log1p
        w = np.exp(log_w)
        # log(1 - exp(-w)), likewise
        log_one_minus = np.where(
            w < 1e-8, log_w + np.log1p(-0.5 * np.minimum(w, 1e-8)), np.log(-np.expm1(-w))
        )
    result: FloatArray = log_one_minus - log_s
    return result
