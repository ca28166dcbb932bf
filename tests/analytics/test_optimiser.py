"""The models' minimiser on problems whose answers are known independently."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize  # type: ignore[import-untyped]

from keepwell.analytics.optimiser import FloatArray, minimise


def rosenbrock(x: FloatArray) -> tuple[float, FloatArray]:
    return float(optimize.rosen(x)), optimize.rosen_der(x)


def test_rosenbrock_reaches_its_minimum_at_ones() -> None:
    box = np.full(4, 10.0)
    result = minimise(rosenbrock, np.array([-1.2, 1.0, -1.2, 1.0]), -box, box)
    assert result.success, result.message
    assert result.x == pytest.approx(np.ones(4), abs=1e-6)
    assert result.fun < 1e-12


def test_as_few_evaluations_as_scipys_l_bfgs_b_on_rosenbrock() -> None:
    box = np.full(4, 10.0)
    x0 = np.array([-1.2, 1.0, -1.2, 1.0])
    ours = minimise(rosenbrock, x0, -box, box)
    theirs = optimize.minimize(rosenbrock, x0, jac=True, method="L-BFGS-B", bounds=[(-10, 10)] * 4)
    assert ours.evaluations <= 1.5 * theirs.nfev


def test_a_minimum_outside_the_box_ends_on_the_bound() -> None:
    centre = np.array([3.0, -0.5, -7.0])

    def bowl(x: FloatArray) -> tuple[float, FloatArray]:
        return float(((x - centre) ** 2).sum()), 2.0 * (x - centre)

    box = np.array([2.0, 2.0, 2.0])
    result = minimise(bowl, np.zeros(3), -box, box)
    assert result.success, result.message
    assert result.x == pytest.approx([2.0, -0.5, -2.0], abs=1e-9)


def test_a_callback_can_stop_the_search() -> None:
    seen: list[FloatArray] = []

    def stop_at_third(x: FloatArray) -> None:
        seen.append(x)
        if len(seen) == 3:
            raise StopIteration

    box = np.full(2, 10.0)
    result = minimise(rosenbrock, np.array([-1.2, 1.0]), -box, box, callback=stop_at_third)
    assert (result.success, result.message, result.iterations) == (
        False,
        "stopped by the callback",
        3,
    )
    assert result.x is seen[-1]


def test_a_likelihood_that_cannot_be_evaluated_is_not_a_success() -> None:
    def broken(x: FloatArray) -> tuple[float, FloatArray]:
        return float("nan"), np.zeros_like(x)

    box = np.ones(2)
    result = minimise(broken, np.zeros(2), -box, box)
    assert (result.success, result.message) == (False, "the value or gradient is not finite")
