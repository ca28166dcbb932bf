"""log Γ, digamma and the logistic function on NumPy arrays, for positive arguments.

The customer models need only these three. They were SciPy's (`scipy.special`), whose
import also loads SciPy's array-API layer and, through it, `numpy.f2py` and
`numpy.testing`: 0.17 s of CPU before `keepwell model fit` could read a line. The
formulas are the classical ones (Abramowitz & Stegun 6.1.40, 6.3.18): for z >= 8, the
Stirling series of log Γ(z) and the asymptotic series of ψ(z), each to its z^-15 term
(truncation error under 1e-15 there); below 8 the recurrences
log Γ(x) = log Γ(x + 8) - log(x (x+1) … (x+7)) and ψ(x) = ψ(x + 8) - Σ 1/(x + k).
Agreement with SciPy is checked in tests/analytics/test_gamma_fn.py (relative 1e-13 over
1e-8 … 1e12).

Arguments must be positive: the models only evaluate them at positive shapes plus
counts. Zero, negative and NaN arguments give NaN; +inf gives +inf.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

_SHIFT = 8
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
# Stirling: log Γ(z) = (z - 1/2) log z - z + log(2π)/2 + Σ c_k z^(1-2k)
_LGAMMA_SERIES = (
    1.0 / 12.0,
    -1.0 / 360.0,
    1.0 / 1260.0,
    -1.0 / 1680.0,
    1.0 / 1188.0,
    -691.0 / 360360.0,
    1.0 / 156.0,
    -3617.0 / 122400.0,
)
# ψ(z) = log z - 1/(2z) - Σ d_k z^(-2k)
_DIGAMMA_SERIES = (
    1.0 / 12.0,
    -1.0 / 120.0,
    1.0 / 252.0,
    -1.0 / 240.0,
    1.0 / 132.0,
    -691.0 / 32760.0,
    1.0 / 12.0,
)


def _prepared(x: ArrayLike) -> tuple[FloatArray, NDArray[np.bool_], NDArray[np.bool_]]:
    values = np.array(x, dtype=np.float64, ndmin=1)
    with np.errstate(invalid="ignore"):
        bad = ~(values > 0.0)  # zero, negative or NaN
        small = values < _SHIFT
    return values, bad, small & ~bad


def _series(inv_z2: FloatArray, coefficients: tuple[float, ...]) -> FloatArray:
    """Σ c_k w^k for k = 0, 1, …, by Horner's rule, with w = 1/z²."""
    total = np.full(inv_z2.shape, coefficients[-1])
    for c in reversed(coefficients[:-1]):
        total = total * inv_z2 + c
    return total


def _shape_like(out: FloatArray, x: ArrayLike) -> FloatArray:
    return out.reshape(np.shape(x))


def gammaln(x: ArrayLike) -> FloatArray:
    """log Γ(x) for x > 0, elementwise."""
    values, bad, small = _prepared(x)
    z = np.where(small, values + _SHIFT, values)
    z[bad] = 1.0
    with np.errstate(over="ignore", invalid="ignore"):
        inv_z = 1.0 / z
        out = (
            (z - 0.5) * np.log(z)
            - z
            + _HALF_LOG_2PI
            + inv_z * _series(inv_z * inv_z, _LGAMMA_SERIES)
        )
    if small.any():
        xs = values[small]
        product = xs.copy()
        for k in range(1, _SHIFT):
            product *= xs + k
        out[small] -= np.log(product)
    out[np.isposinf(values)] = np.inf
    out[bad] = np.nan
    return _shape_like(out, x)


def digamma(x: ArrayLike) -> FloatArray:
    """ψ(x) = d/dx log Γ(x) for x > 0, elementwise."""
    values, bad, small = _prepared(x)
    z = np.where(small, values + _SHIFT, values)
    z[bad] = 1.0
    with np.errstate(over="ignore", invalid="ignore"):
        inv_z = 1.0 / z
        inv_z2 = inv_z * inv_z
        out = np.log(z) - 0.5 * inv_z - inv_z2 * _series(inv_z2, _DIGAMMA_SERIES)
    if small.any():
        xs = values[small]
        total = 1.0 / xs
        for k in range(1, _SHIFT):
            total += 1.0 / (xs + k)
        out[small] -= total
    out[np.isposinf(values)] = np.inf
    out[bad] = np.nan
    return _shape_like(out, x)


def expit(x: ArrayLike) -> FloatArray:
    """The logistic function 1 / (1 + e^-x), without overflow, elementwise."""
    values = np.asarray(x, dtype=np.float64)
    out: FloatArray = np.exp(-np.logaddexp(0.0, -values))
    return out
