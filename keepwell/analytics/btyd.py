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
(weeks by convention). Fits are maximum likelihood over log-parameters (L-BFGS-B, with
an analytic gradient for BG/NBD and Gamma-Gamma); identical customer rows are
collapsed into weights first (for Gamma-Gamma, terms are summed per distinct purchase
count instead), so a million customers fit in under half a second. All
likelihoods and predictions are evaluated in log space without SciPy's ``hyp2f1``
(see `keepwell.analytics._special`), so customers with thousands of purchases or very
long histories give finite results. `log_likelihood_` is the total over customers,
on the scale published in the papers.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from keepwell.analytics import gamma_fn as special
from keepwell.analytics._special import log_beta_expectation, log_hyp2f1_one
from keepwell.analytics.optimiser import minimise
from keepwell.errors import KeepwellError

FloatArray = NDArray[np.float64]

#: At least this many customers (total weight) are needed to fit a model.
MIN_CUSTOMERS = 10
#: Log-parameters are searched in [-LOG_BOUND, LOG_BOUND]; ending on the edge means
#: the data cannot pin that parameter down.
LOG_BOUND = 20.0
_EDGE = LOG_BOUND - 0.05
#: A purchase model's search is abandoned once a log-parameter leaves [-RUNAWAY,
#: RUNAWAY] (e^10 ≈ 22,000: a shape that large or that small means the customers do not
#: differ in it, or never drop out; a time scale that large is 400 years in weeks). Out
#: there the likelihood is a nearly flat ridge: where a search stopped on it depended on
#: the optimiser's path, and Pareto/NBD's steps grow dearer (its 2F1 terms need
#: quadrature), so walking on took minutes (332 s on 40,000 customers). Gamma-Gamma keeps
#: the whole box: its scale v is in the shop's currency, which may count in thousands.
RUNAWAY = 10.0


class InsufficientData(KeepwellError, ValueError):
    """The data cannot support a fit (too few customers, no repeat buyers, no optimum)."""


class NotFittedError(KeepwellError, RuntimeError):
    """A model was asked for parameters or predictions before `fit()`."""


# --------------------------------------------------------------------------- helpers


def _float_array(name: str, value: ArrayLike) -> FloatArray:
    arr = np.asarray(value, dtype=np.float64)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    if (arr < 0).any():
        raise ValueError(f"{name} must not be negative")
    return arr


def _rft(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray, tuple[int, ...]]:
    """Validated, broadcast, flattened (frequency, recency, T) and their common shape."""
    x = _float_array("frequency", frequency)
    t = _float_array("recency", recency)
    big_t = _float_array("T", T)
    x, t, big_t = np.broadcast_arrays(x, t, big_t)
    shape = x.shape
    x, t, big_t = x.ravel(), t.ravel(), big_t.ravel()
    if (t > big_t * (1.0 + 1e-12) + 1e-12).any():
        raise ValueError("recency must not exceed T")
    if (x != np.floor(x)).any():
        raise ValueError("frequency must be whole numbers (repeat purchase counts)")
    if ((x == 0) & (t > 0)).any():
        raise ValueError("customers with frequency 0 must have recency 0")
    return x, np.minimum(t, big_t), big_t, shape


def _weights(weights: ArrayLike | None, n: int) -> FloatArray:
    if weights is None:
        return np.ones(n, dtype=np.float64)
    w = _float_array("weights", weights)
    if w.ndim != 1 or w.shape[0] != n:
        raise ValueError(f"weights must be a 1-D array with one weight per customer ({n})")
    return w


def _unique_rows(columns: list[FloatArray]) -> tuple[list[FloatArray], NDArray[np.intp]]:
    """Distinct rows of the aligned `columns` (in lexicographic order) and, per input row,
    the index of its row."""
    n = columns[0].shape[0]
    if n == 0:
        return columns, np.zeros(0, dtype=np.intp)
    return _unique_grid_rows(columns) or _unique_sorted_rows(columns)


def _unique_sorted_rows(columns: list[FloatArray]) -> tuple[list[FloatArray], NDArray[np.intp]]:
    n = columns[0].shape[0]
    order = np.lexsort(columns[::-1])
    cols = [c[order] for c in columns]
    change = np.zeros(n, dtype=bool)
    change[0] = True
    for c in cols:
        change[1:] |= c[1:] != c[:-1]
    inverse = np.empty(n, dtype=np.intp)
    inverse[order] = np.cumsum(change) - 1
    return [c[change] for c in cols], inverse


#: Summaries of real orders count time in whole days: in days (step 1) or in weeks
#: (step 1/7). On such a grid rows are told apart by integer codes, without a sort.
_GRID_SCALES = (1.0, 7.0)
_MAX_KEY = 2**62


def _grid_codes(column: FloatArray) -> tuple[NDArray[np.int64], int, float, float] | None:
    """Integer codes that order `column` as its values do, when it lies on a grid:
    (codes, how many codes, the lowest grid point, grid points per unit)."""
    for scale in _GRID_SCALES:
        scaled = column * scale
        nearest = np.rint(scaled)
        if float(np.abs(scaled - nearest).max()) <= 1e-6:
            low, high = float(nearest.min()), float(nearest.max())
            if high - low < 2**31:
                return (nearest - low).astype(np.int64), int(high - low) + 1, low, scale
    return None


def _unique_grid_rows(
    columns: list[FloatArray],
) -> tuple[list[FloatArray], NDArray[np.intp]] | None:
    """`_unique_rows` by integer keys; None when a column is off the grid.

    The distinct values are rebuilt from their codes ((low + code) / scale, the way a
    summary computes them from whole days). They must equal the input bit for bit;
    anything else falls back to the sort.
    """
    n = columns[0].shape[0]
    key = np.zeros(n, dtype=np.int64)
    grids: list[tuple[int, float, float]] = []
    size = 1
    for column in columns:
        found = _grid_codes(column)
        if found is None or size * found[1] > _MAX_KEY:
            return None
        codes, count, low, scale = found
        key = key * count + codes
        size *= count
        grids.append((count, low, scale))
    keys: NDArray[np.int64]
    inverse: NDArray[np.intp]
    if size <= 8 * n + (1 << 16):  # a table of every possible key: no sort at all
        keys = np.flatnonzero(np.bincount(key, minlength=size))
        rank = np.zeros(size, dtype=np.intp)
        rank[keys] = np.arange(keys.shape[0])
        inverse = rank[key]
    else:
        keys, inverse = np.unique(key, return_inverse=True)
    unique: list[FloatArray] = []
    rest = keys
    for count, low, scale in reversed(grids):
        rest, codes = np.divmod(rest, count)
        values = low + codes.astype(np.float64)
        unique.append(values if scale == 1.0 else values / scale)
    unique.reverse()
    for column, values in zip(columns, unique, strict=True):
        if not np.array_equal(values[inverse], column):
            return None
    return unique, inverse


def _dot(a: NDArray[Any], b: NDArray[Any]) -> float:
    """The sum of a * b, in this thread.

    `a @ b` hands long vectors to the BLAS library's threads, which on a busy server
    (scoring while serving requests) spin against each other and cost several times
    what they save; einsum's own loop does not.
    """
    return float(np.einsum("i,i->", a, b))


def _collapse(
    columns: list[FloatArray], weights: FloatArray
) -> tuple[list[FloatArray], FloatArray]:
    """Merge identical rows of `columns`, adding up their weights (drops weight-0 rows)."""
    keep = weights > 0
    if not keep.all():
        columns = [c[keep] for c in columns]
        weights = weights[keep]
    unique, inverse = _unique_rows(columns)
    summed = np.bincount(inverse, weights=weights, minlength=unique[0].shape[0])
    return unique, summed.astype(np.float64)


def _maximise(
    model: str,
    neg_mean_ll: Callable[[FloatArray], tuple[float, FloatArray]],
    x0: FloatArray,
    names: tuple[str, ...],
    runaway: float = _EDGE,
) -> FloatArray:
    """Minimise the mean negative log-likelihood over log-parameters; raise if it fails.

    The search is abandoned as soon as a log-parameter leaves [-runaway, runaway].

    BLAS runs in this thread only: the optimiser's calls on tiny matrices otherwise
    wake BLAS's thread pool at every step, which costs more than the fit on a busy
    server (measured: 0.2 s of a 0.4 s BG/NBD fit on 2 cores).
    """
    last = x0

    def watch(x: FloatArray) -> None:
        nonlocal last
        last = x
        if np.abs(x).max() >= runaway:
            raise StopIteration

    bound = np.full(x0.shape[0], LOG_BOUND)
    with np.errstate(all="ignore"), threadpool_limits(limits=1, user_api="blas"):
        res = minimise(neg_mean_ll, x0, -bound, bound, callback=watch)
    x: FloatArray = np.asarray(res.x, dtype=np.float64)
    interior = (np.abs(x) < runaway) & (np.abs(last) < runaway)
    if not interior.all():
        stuck = ", ".join(n for n, ok in zip(names, interior, strict=True) if not ok)
        raise InsufficientData(
            f"{model}: parameter(s) {stuck} ran off to 0 or infinity; "
            "the data cannot support this model"
        )
    grad = res.grad
    if not (np.isfinite(res.fun) and np.isfinite(x).all() and np.isfinite(grad).all()):
        raise InsufficientData(f"{model}: the likelihood could not be evaluated at the optimum")
    if not res.success and np.abs(grad).max(initial=0.0) > 1e-6:
        raise InsufficientData(f"{model}: the optimiser did not converge ({res.message})")
    return x


class _BaseFitter:
    """Parameters, log-likelihood and the 'fit first' check shared by every model."""

    param_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        self._params: dict[str, float] | None = None
        self._log_likelihood: float | None = None
        self.n_customers_: float = 0.0

    @classmethod
    def from_params(cls, **params: float) -> Self:
        """A model with known parameters (e.g. published ones), ready to predict."""
        if set(params) != set(cls.param_names):
            raise ValueError(f"{cls.__name__} needs exactly the parameters {cls.param_names}")
        if not all(math.isfinite(v) and v > 0 for v in params.values()):
            raise ValueError("parameters must be positive and finite")
        model = cls()
        model._params = {name: float(params[name]) for name in cls.param_names}
        return model

    def _not_fitted(self) -> NotFittedError:
        return NotFittedError(f"{type(self).__name__} has not been fitted yet: call fit() first")

    @property
    def params_(self) -> dict[str, float]:
        """Fitted parameters by name."""
        if self._params is None:
            raise self._not_fitted()
        return dict(self._params)

    @property
    def log_likelihood_(self) -> float:
        """Total log-likelihood of the fitted data at the fitted parameters."""
        if self._log_likelihood is None:
            raise self._not_fitted()
        return self._log_likelihood

    def _values(self) -> tuple[float, ...]:
        params = self.params_
        return tuple(params[name] for name in self.param_names)

    def _store(self, log_params: FloatArray, log_likelihood: float, n: float) -> None:
        self._params = {
            name: float(math.exp(v)) for name, v in zip(self.param_names, log_params, strict=True)
        }
        self._log_likelihood = float(log_likelihood)
        self.n_customers_ = float(n)

    def __repr__(self) -> str:
        if self._params is None:
            return f"<{type(self).__name__}: not fitted>"
        shown = ", ".join(f"{k}={v:.4g}" for k, v in self._params.items())
        return f"<{type(self).__name__}: {shown}>"


def _check_fit_data(model: str, x: FloatArray, w: FloatArray) -> None:
    total = float(w.sum())
    if total < MIN_CUSTOMERS:
        raise InsufficientData(f"{model}: needs at least {MIN_CUSTOMERS} customers, got {total:g}")
    if not (w[x > 0] > 0).any():
        raise InsufficientData(f"{model}: no customer made a repeat purchase")


def _start_scale(x: FloatArray, big_t: FloatArray, w: FloatArray) -> float:
    """A starting value for the rate scale (alpha / beta): time per purchase, roughly."""
    rate = float((w * x).sum()) / max(float((w * big_t).sum()), 1e-12)
    return min(max(1.0 / max(rate, 1e-12), 1e-3), 1e6)


def _pct(p: float) -> str:
    pct = 100.0 * p
    if pct >= 99.5:
        return "over 99 %" if p < 1.0 else "100 %"
    if pct < 0.5:
        return "under 1 %" if p > 0.0 else "0 %"
    return f"about {pct:.0f} %"


class TransactionModel(_BaseFitter, ABC):
    """A purchase-count model: P(alive) and expected purchases per customer."""

    @abstractmethod
    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        weights: ArrayLike | None = None,
    ) -> Self:
        """Fit to per-customer (frequency, recency, T); `weights` count identical rows."""

    @abstractmethod
    def conditional_probability_alive(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """P(still a customer at T | frequency, recency, T)."""

    @abstractmethod
    def conditional_expected_number_of_purchases_up_to_time(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """Expected purchases in the next `t` time units, given the customer's history."""

    @abstractmethod
    def expected_number_of_purchases_up_to_time(self, t: ArrayLike) -> FloatArray:
        """Expected purchases of a new customer in their first `t` time units."""

    def explain(
        self,
        frequency: float,
        recency: float,
        T: float,
        *,
        unit_days: float = 7.0,
        horizon_days: float | None = None,
    ) -> str:
        """One plain-English sentence about one customer (see `explain_customer`)."""
        p_alive = float(self.conditional_probability_alive(frequency, recency, T))
        rec_days = recency * unit_days
        ago = (T - recency) * unit_days
        if frequency > 0:
            gap = rec_days / frequency
            first = f"buys about every {gap:.0f} days"
        else:
            first = "has bought only once"
        parts = [first, f"last bought {ago:.0f} days ago", f"{_pct(p_alive)} likely still active"]
        if horizon_days is not None:
            expected = float(
                self.conditional_expected_number_of_purchases_up_to_time(
                    horizon_days / unit_days, frequency, recency, T
                )
            )
            parts.append(
                f"expect about {expected:.1f} purchases in the next {horizon_days:.0f} days"
            )
        return "; ".join(parts)


def explain_customer(
    model: TransactionModel,
    frequency: float,
    recency: float,
    T: float,
    *,
    unit_days: float = 7.0,
    horizon_days: float | None = None,
) -> str:
    """Explain a customer's prediction in one sentence, in days.

    `frequency`, `recency` and `T` are in the model's time unit (`unit_days` days each,
    7 for weeks). Example: "buys about every 41 days; last bought 130 days ago; about
    22 % likely still active". With `horizon_days`, the expected number of purchases in
    that many days is appended.
    """
    return model.explain(frequency, recency, T, unit_days=unit_days, horizon_days=horizon_days)


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
        x, t, big_t, _ = _rft(frequency, recency, T)
        w = _weights(weights, x.shape[0])
        (x, t, big_t), w = _collapse([x, t, big_t], w)
        _check_fit_data("BG/NBD", x, w)
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
            ll = _dot(
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
            ll -= r * _dot(w_big_t, log_at) + _dot(wx_big_t, log_at)
            # repeat buyers: + log(1 + a/(b+x-1) ((alpha+T)/(alpha+t))^(r+x))
            log_a_t = np.log(alpha + ut)
            d = log_at[i_big_tr] - log_a_t[i_tr]  # log((alpha+T)/(alpha+t)) >= 0
            rx = r + xr
            z = rx * d - np.log(b + ux_rep)[ixr] + math.log(a)
            ll += _dot(wr, np.logaddexp(0.0, z))
            ws = wr * special.expit(z)
            psi_x_r = special.digamma(r + ux)
            psi_x_b = special.digamma(b + ux)
            psi_x_ab = special.digamma(a + b + ux)
            g_r = (
                _dot(wx, psi_x_r)
                + total * (-special.digamma(r) + math.log(alpha))
                - _dot(w_big_t, log_at)
                + _dot(ws, d)
            )
            g_alpha = (
                total * r / alpha
                - r * _dot(w_big_t, inv_at)
                - _dot(wx_big_t, inv_at)
                + _dot(ws, rx * (inv_at[i_big_tr] - (1.0 / (alpha + ut))[i_tr]))
            )
            common_ab = total * special.digamma(a + b) - _dot(wx, psi_x_ab)
            g_a = common_ab + float(ws.sum()) / a
            g_b = common_ab + _dot(wx, psi_x_b) - total * special.digamma(b)
            ws_x = np.bincount(ixr, weights=ws, minlength=ux.shape[0])
            g_b -= _dot(ws_x, 1.0 / (b + ux_rep))
            grad = np.array([g_r * r, g_alpha * alpha, g_a * a, g_b * b])
            return -ll / total, -grad / total

        scale = _start_scale(x, big_t, w)
        x0 = np.array([0.0, math.log(scale), 0.0, 0.0])
        theta = _maximise("BG/NBD", neg_mean_ll, x0, self.param_names, RUNAWAY)
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
        x, t, big_t, shape = _rft(frequency, recency, T)
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
        (horizon, x, big_t), inverse = _unique_rows([horizon, x, big_t])
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
        horizon = _float_array("t", t)
        x, rec, big_t, shape = _rft(frequency, recency, T)
        horizon, x, rec, big_t = np.broadcast_arrays(
            horizon, x.reshape(shape), rec.reshape(shape), big_t.reshape(shape)
        )
        shape = horizon.shape
        horizon, x, rec, big_t = (a.ravel() for a in (horizon, x, rec, big_t))
        log_e = self._log_p_alive(x, rec, big_t) + self._log_expected_if_alive(horizon, x, big_t)
        return np.exp(log_e).reshape(shape)

    def expected_number_of_purchases_up_to_time(self, t: ArrayLike) -> FloatArray:
        """Expected purchases of a new customer in their first `t` time units (FHL eq. 9)."""
        horizon = _float_array("t", t)
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
        (pair_x, pair_tau), inverse = _unique_rows(
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
        x, t, big_t, _ = _rft(frequency, recency, T)
        w = _weights(weights, x.shape[0])
        (x, t, big_t), w = _collapse([x, t, big_t], w)
        _check_fit_data("Pareto/NBD", x, w)
        total = float(w.sum())
        rows = _ParetoRows.build(x, t, big_t)
        ux, inv = np.unique(x, return_inverse=True)
        wx = np.bincount(inv, weights=w, minlength=ux.shape[0])

        def mean_ll(theta: FloatArray) -> float:
            r, alpha, s, beta = (float(v) for v in np.exp(theta))
            log_e, log_si = self._log_bracket_parts((r, alpha, s, beta), rows)
            ll = _dot(wx, special.gammaln(r + ux))
            ll += total * float(-special.gammaln(r) + r * math.log(alpha) + s * math.log(beta))
            ll += _dot(w, np.logaddexp(log_e, log_si))
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

        scale = _start_scale(x, big_t, w)
        x0 = np.array([0.0, math.log(scale), 0.0, math.log(scale)])
        theta = _maximise("Pareto/NBD", neg_mean_ll, x0, self.param_names, RUNAWAY)
        self._store(theta, mean_ll(theta) * total, total)
        return self

    def conditional_probability_alive(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """P(still a customer at T | frequency, recency, T) = E(T) / (E(T) + s·I)."""
        x, t, big_t, shape = _rft(frequency, recency, T)
        params = self._values()
        (ux, ut, ubig_t), inverse = _unique_rows([x, t, big_t])
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
        horizon = _float_array("t", t)
        x, rec, big_t, shape = _rft(frequency, recency, T)
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
        horizon = _float_array("t", t)
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


# --------------------------------------------------------------------------- Gamma-Gamma


class GammaGammaFitter(_BaseFitter):
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
        x = _float_array("frequency", frequency)
        mv = _float_array("monetary_value", monetary_value)
        x, mv = (a.ravel() for a in np.broadcast_arrays(x, mv))
        w = _weights(weights, x.shape[0])
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
        fixed = _dot(wx_all, log_m + log_x)  # sum w x (log m + log x)
        w_log_m = _dot(w, log_m)
        mx = mv * x

        def neg_mean_ll(theta: FloatArray) -> tuple[float, FloatArray]:
            p, q, v = np.exp(theta)
            pux = p * ux
            log_vm = np.log(v + mx)
            wx_log_vm = _dot(wx_all, log_vm)
            w_log_vm = _dot(w, log_vm)
            ll = _dot(wx, special.gammaln(pux + q) - special.gammaln(pux))
            ll += p * fixed - w_log_m - p * wx_log_vm - q * w_log_vm
            ll += total * (q * math.log(v) - special.gammaln(q))
            psi_pq = special.digamma(pux + q)
            g_p = _dot((wx * ux), psi_pq - special.digamma(pux)) + fixed - wx_log_vm
            g_q = _dot(wx, psi_pq) - w_log_vm + total * (math.log(v) - special.digamma(q))
            g_v = total * q / v - _dot(w, (p * x + q) / (v + mx))
            grad = np.array([g_p * p, g_q * q, g_v * v])
            return -ll / total, -grad / total

        x0 = np.array([0.0, 0.0, math.log(_dot(w, mv) / total)])
        theta = _maximise("Gamma-Gamma", neg_mean_ll, x0, self.param_names)
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
        x = _float_array("frequency", frequency)
        mv = _float_array("monetary_value", monetary_value)
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
