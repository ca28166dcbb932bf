"""The purchase model a scoring run uses when the chosen one cannot be fitted, and the
pinned parameters it accepts."""

from __future__ import annotations

import numpy as np
import pytest

from keepwell.analytics import BetaGeoFitter, InsufficientData, ParetoNBDFitter, Summary
from keepwell.errors import InvalidInput
from keepwell.scoring.fitted import NO_MODEL, Pinned, fit_models


def summary(groups: list[tuple[float, float, float, int]]) -> Summary:
    """Customers in groups of (frequency, recency, T, how many), in weeks."""
    x = np.concatenate([np.full(n, f) for f, _, _, n in groups])
    rec = np.concatenate([np.full(n, r) for _, r, _, n in groups])
    big_t = np.concatenate([np.full(n, t) for _, _, t, n in groups])
    return Summary(
        customer_ids=np.arange(x.shape[0]),
        frequency=x.astype(np.int64),
        recency=rec,
        T=big_t,
        monetary_value=np.where(x > 0, 20.0, 0.0),
        unit="week",
        calibration_end=np.datetime64("2024-06-30"),
    )


# 5 who bought 5 times in their first 5 weeks, 40 weeks ago, and 20 who bought twice,
# 20 weeks apart, the first time 40 weeks ago. (BG/NBD fits it with every parameter
# between 0.9 and 8.)
PARETO_FAILS = summary([(4, 5, 40, 5), (1, 20, 40, 20)])
# 10 who bought 5 times in their first 40 weeks and not in the 40 since, 20 who bought
# once 20 weeks ago, 20 who bought 4 times in their first week, 10 weeks ago. (Pareto/NBD
# fits it with every parameter between 0.5 and 2.)
BGNBD_FAILS = summary([(4, 40, 80, 10), (0, 0, 20, 20), (3, 1, 10, 20)])


def test_the_data_really_defeat_one_model_each() -> None:
    s = PARETO_FAILS
    BetaGeoFitter().fit(s.frequency, s.recency, s.T)
    with pytest.raises(InsufficientData, match="ran off"):
        ParetoNBDFitter().fit(s.frequency, s.recency, s.T)
    s = BGNBD_FAILS
    ParetoNBDFitter().fit(s.frequency, s.recency, s.T)
    with pytest.raises(InsufficientData, match="ran off"):
        BetaGeoFitter().fit(s.frequency, s.recency, s.T)


def test_pareto_falls_back_to_bgnbd() -> None:
    fitted = fit_models(PARETO_FAILS, "pareto", None)
    assert (fitted.chosen, fitted.model, fitted.fell_back) == ("pareto", "bgnbd", True)
    assert isinstance(fitted.purchases, BetaGeoFitter)
    assert fitted.notes[0].startswith("Pareto/NBD could not be fitted (parameter(s) beta ran off")
    assert fitted.notes[0].endswith("so BG/NBD was fitted instead.")


def test_bgnbd_falls_back_to_pareto() -> None:
    fitted = fit_models(BGNBD_FAILS, "bgnbd", None)
    assert (fitted.model, fitted.fell_back) == ("pareto", True)
    assert isinstance(fitted.purchases, ParetoNBDFitter)
    assert "so Pareto/NBD was fitted instead" in fitted.notes[0]


def test_a_model_that_fits_is_used_as_chosen() -> None:
    fitted = fit_models(PARETO_FAILS, "bgnbd", None)
    assert (fitted.model, fitted.fell_back, fitted.fitted) == ("bgnbd", False, True)
    assert not any("could not be fitted" in note for note in fitted.notes)


def test_when_neither_fits_there_is_no_purchase_model() -> None:
    fitted = fit_models(summary([(1, 2, 5, 3), (0, 0, 5, 2)]), "pareto", None)
    assert fitted.model == NO_MODEL and fitted.purchases is None
    assert fitted.notes[0] == (
        "no purchase model: neither could be fitted (Pareto/NBD: needs at least 10 customers, "
        "got 5; BG/NBD: needs at least 10 customers, got 5)"
    )


def test_pinned_parameters_are_used_without_fitting() -> None:
    pinned = Pinned.from_json(
        {"pareto": {"r": 0.55, "alpha": 10.6, "s": 0.61, "beta": 11.7}}, "pareto"
    )
    fitted = fit_models(PARETO_FAILS, "pareto", pinned)
    assert (fitted.model, fitted.fitted) == ("pareto", False)
    assert fitted.purchases is not None and fitted.purchases.params_["s"] == 0.61


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"bgnbd": {"r": -1, "alpha": 4, "a": 0.8, "b": 2.4}}, "bgnbd.r must be a positive number"),
        ({"bgnbd": {"r": 1, "alpha": "nan", "a": 0.8, "b": 2.4}}, "bgnbd.alpha must be"),
        (
            {
                "bgnbd": {"r": 0.24, "alpha": 4.4, "a": 0.79, "b": 2.4},
                "gamma_gamma": {"p": 6.25, "q": 0.9, "v": 15.44},
            },
            "gamma_gamma.q must be above 1",
        ),
    ],
)
def test_pinned_parameters_are_checked(data: dict[str, object], message: str) -> None:
    """They raised a bare ValueError (a traceback) when scoring began."""
    with pytest.raises(InvalidInput, match=message):
        Pinned.from_json(data, "bgnbd")
