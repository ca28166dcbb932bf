"""RFM, health and lifecycle: pure functions, checked against hand-worked cases."""

from __future__ import annotations

import numpy as np
import pytest

from keepwell.analytics.health import HealthWeights, contact_component, health_score
from keepwell.analytics.lifecycle import lifecycle_stage
from keepwell.analytics.rfm import quantile_scores, rfm
from keepwell.analytics.simulate import bgnbd_summary
from keepwell.errors import InvalidInput


def test_quintiles_keep_ties_together() -> None:
    assert quantile_scores([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).tolist() == [
        1, 1, 2, 2, 3, 3, 4, 4, 5, 5,
    ]  # fmt: skip
    # half bought once: they all share one score, whatever their order
    scores = quantile_scores([1, 1, 1, 1, 1, 2, 3, 4, 5, 9])
    assert len(set(scores[:5].tolist())) == 1
    assert scores.tolist() == sorted(scores.tolist())
    # fewer days since the last purchase is better
    assert quantile_scores([5, 100], higher_is_better=False).tolist() == [3, 1]
    assert quantile_scores([1, 1, 1, 1, 1, 2, 3, 4, 5, 9])[:5].tolist() == [1] * 5


def test_rfm_segments_follow_the_grid() -> None:
    result = rfm(
        days_since_last=[1, 2, 300, 400, 5, 350, 3, 200, 250, 500],
        purchase_days=[20, 15, 1, 1, 1, 18, 1, 2, 12, 1],
        average_value=[10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
    )
    segment = dict(enumerate(result.segment.tolist()))
    assert segment[0] == "champions"  # most recent, most frequent
    assert segment[5] == "cant_lose"  # frequent, long ago
    assert segment[9] == "lost"  # once, longest ago
    assert segment[4] == "promising"  # once, fairly recently (three bought more recently)


def test_health_weights_and_missing_components() -> None:
    common = dict(
        days_since_contact=[10.0, 10.0], cadence_days=[30, 30], overdue_promises=[0, 0],
        open_cases=[0, 0], unconfirmed_cases=[0, 0],
    )  # fmt: skip
    # 0 activity: (25 + 15 + 10) / 90; unknown activity: the other components decide
    assert health_score(activity=[0.0, np.nan], **common).tolist() == [56, 100]  # type: ignore[arg-type]
    w = HealthWeights.parse("activity=1,contact=0,promises=0,cases=0")
    assert health_score(activity=[0.25, 0.5], weights=w, **common).tolist() == [25, 50]  # type: ignore[arg-type]
    assert contact_component([30, 60, 90, 200], [30, 30, 30, 30]).tolist() == [1.0, 0.5, 0.0, 0.0]
    overdue = health_score(
        activity=[1.0], days_since_contact=[0], cadence_days=[30], overdue_promises=[2],
        open_cases=[1], unconfirmed_cases=[0],
    )  # fmt: skip
    # 40 + 25 + 15 * 0.25 + 10 * 0.5 over 90 (no survey): 73.75 / 90
    assert overdue.tolist() == [82]
    with pytest.raises(InvalidInput, match="NAME=NUMBER"):
        HealthWeights.parse("mood=3")
    with pytest.raises(InvalidInput, match="positive"):
        HealthWeights.parse("activity=0,contact=0,promises=0,cases=0,survey=0,review=0")


def test_health_counts_the_latest_survey_and_review_where_there_is_one() -> None:
    healthy = dict(
        activity=[1.0, 1.0, 1.0], days_since_contact=[0, 0, 0], cadence_days=[30, 30, 30],
        overdue_promises=[0, 0, 0], open_cases=[0, 0, 0], unconfirmed_cases=[0, 0, 0],
    )  # fmt: skip
    got = health_score(survey=[10.0, 0.0, np.nan], review=[1.0, 0.0, 0.5], **healthy)  # type: ignore[arg-type]
    # all good: 100; an NPS 0 and a review with nothing yes: 90 of 110; no survey and a
    # half-good review: (90 + 5) of 100
    assert got.tolist() == [100, 82, 95]


def test_lifecycle_rules_in_order() -> None:
    stage = lifecycle_stage(
        purchase_days=[0, 1, 1, 2, 5, 5, 1, 4],
        days_since_first=[np.nan, 10, 200, 300, 400, 400, 400, 400],
        days_since_last=[np.nan, 10, 200, 20, 100, 10, 400, 30],
        usual_gap_days=[np.nan, np.nan, np.nan, 280, 30, 30, np.nan, 40],
        activity=[np.nan, 1.0, 0.7, 0.9, 0.8, 0.9, 0.1, 0.9],
        advocate=[False, False, False, False, False, False, False, True],
    )
    assert stage.tolist() == [
        "prospect",  # no purchase
        "onboarding",  # first purchase 10 days ago
        "adopting",  # once, still active
        "adopting",  # twice
        "at_risk",  # 100 days silent, usual gap 30
        "repeat",
        "lapsed",  # one-time buyer, little chance, 400 days
        "advocate",
    ]


def test_simulated_customers_refit_to_their_parameters() -> None:
    from keepwell.analytics import BetaGeoFitter

    s = bgnbd_summary(200_000, seed=3)
    fitted = BetaGeoFitter().fit(s.frequency, s.recency, s.T).params_
    for name, value in {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}.items():
        assert fitted[name] == pytest.approx(value, rel=0.1)


def test_fast_predictions_equal_the_models() -> None:
    """The job's per-(x, T) predictions and CLV equal the fitters' own, for both models."""
    from keepwell.analytics import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter
    from keepwell.scoring.service import expected_if_alive, lifetime_value

    s = bgnbd_summary(20_000, seed=5)
    x, rec, big_t, money = s.frequency, s.recency, s.T, s.monetary_value
    gg = GammaGammaFitter.from_params(p=6.25, q=3.74, v=15.44)
    per = gg.conditional_expected_average_profit(x, money)
    for model in (
        BetaGeoFitter.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426),
        ParetoNBDFitter.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669),
    ):
        want = gg.customer_lifetime_value(model, x, rec, big_t, money, 12, 0.01, 7.0)
        np.testing.assert_allclose(lifetime_value(model, x, rec, big_t, per), want, rtol=1e-7)
        e13 = model.conditional_expected_number_of_purchases_up_to_time(13.0, x, rec, big_t)
        fast = (
            model.conditional_probability_alive(x, rec, big_t)
            * expected_if_alive(model, [13.0], x, big_t)[0]
        )
        np.testing.assert_allclose(fast, e13, rtol=1e-7)
