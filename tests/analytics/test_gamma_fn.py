"""log Γ, digamma and the logistic function against SciPy's, which they replace."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special  # type: ignore[import-untyped]

from keepwell.analytics import gamma_fn

POSITIVE = np.concatenate(
    [np.logspace(-8, 12, 4001), np.arange(1, 200) * 0.5, [1.4616321449683622, 7.999999, 8.0]]
)


def test_gammaln_agrees_with_scipy() -> None:
    ours, theirs = gamma_fn.gammaln(POSITIVE), special.gammaln(POSITIVE)
    np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-14)


def test_digamma_agrees_with_scipy() -> None:
    ours, theirs = gamma_fn.digamma(POSITIVE), special.digamma(POSITIVE)
    np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-14)


def test_exact_values() -> None:
    # log Γ(n) = log (n-1)!, ψ(1) = -γ, ψ(1/2) = -γ - 2 log 2
    euler = 0.5772156649015329
    assert gamma_fn.gammaln(np.array([1.0, 2.0, 11.0])) == pytest.approx(
        [0.0, 0.0, math.log(math.factorial(10))], abs=1e-14
    )
    assert float(gamma_fn.digamma(1.0)) == pytest.approx(-euler, rel=1e-15)
    assert float(gamma_fn.digamma(0.5)) == pytest.approx(-euler - 2 * math.log(2), rel=1e-15)
    assert float(gamma_fn.gammaln(0.5)) == pytest.approx(0.5 * math.log(math.pi), rel=1e-15)


def test_outside_the_domain() -> None:
    x = np.array([0.0, -1.5, np.nan, np.inf])
    for f in (gamma_fn.gammaln, gamma_fn.digamma):
        out = f(x)
        assert np.isnan(out[:3]).all() and out[3] == np.inf


def test_shapes_follow_the_argument() -> None:
    assert gamma_fn.gammaln(3.0).shape == ()
    assert gamma_fn.digamma(np.ones((2, 3))).shape == (2, 3)


def test_expit_agrees_with_scipy_in_both_tails() -> None:
    x = np.linspace(-745.0, 745.0, 20001)
    np.testing.assert_allclose(gamma_fn.expit(x), special.expit(x), rtol=1e-14, atol=1e-300)
