"""Pareto/NBD (Schmittlein, Morrison & Colombo 1987; Fader & Hardie 2005 notes): like
BG/NBD, but a customer can drift away at any moment, not only right after a purchase.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray

from keepwell.analytics import gamma_fn as special
from keepwell.analytics._special import log_hyp2f1_one
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

# --------------------------------------------------------------------------- Pareto/NBD


@dataclass(frozen=True)
class _ParetoRows:
    """Customer rows plus the distinct (x, τ) pairs whose G(τ) the likelihood needs."""

    x: FloatArray
    big_t: FloatArray
    open_: NDArray[np.bool_]  # rows with recency < T (the integral I is not empty)
    pair_x: FloatArray
    pair_tau: FloatArray
    lo: NDArray[np.intp]  # pair index of (x, t_x) for each open row
    hi: NDArray[np.intp]  # pair index of (x, T) for each open row

    @classmethod
    def build(cls, x: FloatArray, t: FloatArray, big_t: FloatArray) -> _ParetoRows:
        open_ = big_t > t
        xo = x[open_]
        n_open = xo.shape[0]
        (pair_x, pair_tau), inverse = unique_rows(
            [np.concatenate((xo, xo)), np.concatenate((t[open_], big_t[open_]))]
        )
        return cls(x, big_t, open_, pair_x, pair_tau, inverse[:n_open], inverse[n_open:])


class ParetoNBDFitter(TransactionModel):
    """Pareto/NBD (Schmittlein, Morrison & Colombo 1987; Fader & Hardie 2005 notes)."""

    param_names = ("r", "alpha", "s", "beta")
    _fd_step: ClassVar[float] = 1e-5

    @staticmethod
    def _log_bracket_parts(
        params: tuple[float, float, float, float], rows: _ParetoRows
    ) -> tuple[FloatArray, FloatArray]:
        """(log E(T), log s·I) per row, where the likelihood is

        Γ(r+x) α^r β^s / Γ(r) · [E(T) + s·I],  E(τ) = (α+τ)^-(r+x) (β+τ)^-s,
        I = ∫_{t_x}^{T} (α+τ)^-(r+x) (β+τ)^-(s+1) dτ  (the 2F1 terms of Fader & Hardie).
        I = G(t_x) - G(T) with G(τ) = ∫_τ^∞ … = E(τ)/m · K(τ), m = r+s+x, and K a
        2F1(1, ·; m+1; u) that stays between 1 and 1/(1-u) (Euler-transformed).
        """
        r, alpha, s, beta = params
        x, big_t = rows.x, rows.big_t
        log_e_big = -(r + x) * np.log(alpha + big_t) - s * np.log(beta + big_t)
        log_si = np.full(x.shape, -np.inf)
        if rows.lo.shape[0] == 0:
            return log_e_big, log_si
        # G on the distinct (x, τ) pairs only
        px, tau = rows.pair_x, rows.pair_tau
        m = r + s + px
        log_e = -(r + px) * np.log(alpha + tau) - s * np.log(beta + tau)
        if alpha >= beta:
            u = (alpha - beta) / (alpha + tau)
            v = (beta + tau) / (alpha + tau)
            log_k = log_hyp2f1_one(r + px, m + 1.0, u, v)
        else:
            u = (beta - alpha) / (beta + tau)
            v = (alpha + tau) / (beta + tau)
            log_k = np.log(v) + log_hyp2f1_one(np.full(u.shape, s + 1.0), m + 1.0, u, v)
        log_g = log_e - np.log(m) + log_k
        g_lo, g_hi = log_g[rows.lo], log_g[rows.hi]
        diff = np.minimum(g_hi - g_lo, 0.0)
        with np.errstate(divide="ignore"):
            log_si[rows.open_] = math.log(s) + g_lo + np.log(-np.expm1(diff))
        return log_e_big, log_si

    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        weights: ArrayLike | None = None,
    ) -> Self:
        """Maximum-likelihood fit (central-difference gradient on log-parameters)."""
        x, t, big_t, _ = rft(frequency, recency, T)
        w = weights_of(weights, x.shape[0])
        (x, t, big_t), w = collapse([x, t, big_t], w)
        check_fit_data("Pareto/NBD", x, w)
        total = float(w.sum())
        rows = _ParetoRows.build(x, t, big_t)
        ux, inv = np.unique(x, return_inverse=True)
        wx = np.bincount(inv, weights=w, minlength=ux.shape[0])

        def mean_ll(theta: FloatArray) -> float:
            r, alpha, s, beta = (float(v) for v in np.exp(theta))
            log_e, log_si = self._log_bracket_parts((r, alpha, s, beta), rows)
            ll = dot(wx, special.gammaln(r + ux))
            ll += total * float(-special.gammaln(r) + r * math.log(alpha) + s * math.log(beta))
            ll += dot(w, np.logaddexp(log_e, log_si))
            return ll / total

        step = self._fd_step

        def neg_mean_ll(theta: FloatArray) -> tuple[float, FloatArray]:
            value = mean_ll(theta)
            grad = np.empty(theta.shape[0])
            for i in range(theta.shape[0]):
                e = np.zeros(theta.shape[0])
                e[i] = step
                grad[i] = (mean_ll(theta + e) - mean_ll(theta - e)) / (2.0 * step)
            return -value, -grad

        scale = start_scale(x, big_t, w)
        x0 = np.array([0.0, math.log(scale), 0.0, math.log(scale)])
        theta = maximise("Pareto/NBD", neg_mean_ll, x0, self.param_names, RUNAWAY)
        self._store(theta, mean_ll(theta) * total, total)
        return self

    def conditional_probability_alive(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """P(still a customer at T | frequency, recency, T) = E(T) / (E(T) + s·I)."""
        x, t, big_t, shape = rft(frequency, recency, T)
        params = self._values()
        (ux, ut, ubig_t), inverse = unique_rows([x, t, big_t])
        rows = _ParetoRows.build(ux, ut, ubig_t)
        log_e, log_si = self._log_bracket_parts((params[0], params[1], params[2], params[3]), rows)
        p_alive = np.exp(log_e - np.logaddexp(log_e, log_si))
        return p_alive[inverse].reshape(shape)

    def conditional_expected_number_of_purchases_up_to_time(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """Expected purchases in the next `t` time units, given the customer's history.

        E[Y(t) | x, t_x, T] = P(alive) (r+x)/(α+T) (β+T)/(s-1) [1 - ((β+T)/(β+T+t))^(s-1)].
        """
        horizon = float_array("t", t)
        x, rec, big_t, shape = rft(frequency, recency, T)
        p_alive = self.conditional_probability_alive(x, rec, big_t).reshape(shape)
        r, alpha, s, beta = self._values()
        xs, big_ts = x.reshape(shape), big_t.reshape(shape)
        per_alive = (
            (r + xs) / (alpha + big_ts) * (beta + big_ts) * _pareto_tail(s, horizon, beta + big_ts)
        )
        result: FloatArray = p_alive * per_alive
        return result

    def expected_number_of_purchases_up_to_time(self, t: ArrayLike) -> FloatArray:
        """Expected purchases of a new customer in their first `t` time units."""
        horizon = float_array("t", t)
        r, alpha, s, beta = self._values()
        result: FloatArray = r / alpha * beta * _pareto_tail(s, horizon, np.float64(beta))
        return result


def _pareto_tail(s: float, horizon: FloatArray, scale: FloatArray | np.float64) -> FloatArray:
    """∫_0^t ((β')/(β'+τ))^s dτ / β' = (1 - (β'/(β'+t))^(s-1)) / (s-1), and log(1+t/β') at s=1."""
    lg = np.log1p(horizon / scale)
    if abs(s - 1.0) < 1e-12:
        return np.asarray(lg, dtype=np.float64)
    result: FloatArray = -np.expm1(-(s - 1.0) * lg) / (s - 1.0)
    return result
