"""What the customer models share: their errors, the fitting loop and the base classes.

`maximise` searches the log-parameters (keepwell/analytics/optimiser.py) and turns a
search that fails into `InsufficientData` with a reason a user can read; `collapse`
merges identical customer rows into weights first, so a million customers cost what
their distinct histories cost. `TransactionModel` is what BG/NBD (btyd.py) and
Pareto/NBD (pareto.py) promise to scoring: P(alive), expected purchases, and a plain
explanation per customer; Gamma-Gamma (gamma_gamma.py) models spend.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

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


def float_array(name: str, value: ArrayLike) -> FloatArray:
    arr = np.asarray(value, dtype=np.float64)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    if (arr < 0).any():
        raise ValueError(f"{name} must not be negative")
    return arr


def rft(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray, tuple[int, ...]]:
    """Validated, broadcast, flattened (frequency, recency, T) and their common shape."""
    x = float_array("frequency", frequency)
    t = float_array("recency", recency)
    big_t = float_array("T", T)
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


def weights_of(weights: ArrayLike | None, n: int) -> FloatArray:
    if weights is None:
        return np.ones(n, dtype=np.float64)
    w = float_array("weights", weights)
    if w.ndim != 1 or w.shape[0] != n:
        raise ValueError(f"weights must be a 1-D array with one weight per customer ({n})")
    return w


def unique_rows(columns: list[FloatArray]) -> tuple[list[FloatArray], NDArray[np.intp]]:
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
    """`unique_rows` by integer keys; None when a column is off the grid.

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


def dot(a: NDArray[Any], b: NDArray[Any]) -> float:
    """The sum of a * b, in this thread.

    `a @ b` hands long vectors to the BLAS library's threads, which on a busy server
    (scoring while serving requests) spin against each other and cost several times
    what they save; einsum's own loop does not.
    """
    return float(np.einsum("i,i->", a, b))


def collapse(columns: list[FloatArray], weights: FloatArray) -> tuple[list[FloatArray], FloatArray]:
    """Merge identical rows of `columns`, adding up their weights (drops weight-0 rows)."""
    keep = weights > 0
    if not keep.all():
        columns = [c[keep] for c in columns]
        weights = weights[keep]
    unique, inverse = unique_rows(columns)
    summed = np.bincount(inverse, weights=weights, minlength=unique[0].shape[0])
    return unique, summed.astype(np.float64)


def maximise(
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


class BaseFitter:
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


def check_fit_data(model: str, x: FloatArray, w: FloatArray) -> None:
    total = float(w.sum())
    if total < MIN_CUSTOMERS:
        raise InsufficientData(f"{model}: needs at least {MIN_CUSTOMERS} customers, got {total:g}")
    if not (w[x > 0] > 0).any():
        raise InsufficientData(f"{model}: no customer made a repeat purchase")


def start_scale(x: FloatArray, big_t: FloatArray, w: FloatArray) -> float:
    """A starting value for the rate scale (alpha / beta): time per purchase, roughly."""
    rate = float((w * x).sum()) / max(float((w * big_t).sum()), 1e-12)
    return min(max(1.0 / max(rate, 1e-12), 1e-3), 1e6)


def pct(p: float) -> str:
    pct = 100.0 * p
    if pct >= 99.5:
        return "over 99 %" if p < 1.0 else "100 %"
    if pct < 0.5:
        return "under 1 %" if p > 0.0 else "0 %"
    return f"about {pct:.0f} %"


class TransactionModel(BaseFitter, ABC):
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
        parts = [first, f"last bought {ago:.0f} days ago", f"{pct(p_alive)} likely still active"]
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
