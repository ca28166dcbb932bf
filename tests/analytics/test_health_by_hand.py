"""The health score's parts, each worked out by hand at the points where a rule turns."""

from __future__ import annotations

import math

import numpy as np
import pytest

from keepwell.analytics.health import HealthWeights, contact_component, halving, health_score
from keepwell.errors import InvalidInput


def one(**given: object) -> int:
    """The health of one customer: healthy in every part but those given."""
    parts: dict[str, object] = dict(
        activity=[1.0], days_since_contact=[0.0], cadence_days=[30.0], overdue_promises=[0],
        open_cases=[0], unconfirmed_cases=[0],
    )  # fmt: skip
    parts.update(given)
    return int(health_score(**parts)[0])  # type: ignore[arg-type]


def test_contact_is_whole_within_the_cadence_and_gone_at_three_cadences() -> None:
    got = contact_component([0, 30, 45, 60, 75, 90, 120], [30] * 7).tolist()
    assert got == [1.0, 1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    # a cadence under a day counts as one day: 2 days silent is one cadence over
    assert contact_component([2.0], [0.0]).tolist() == [0.5]


def test_each_outstanding_item_halves() -> None:
    assert halving([0, 1, 3]).tolist() == [1.0, 0.5, 0.125]


def test_default_weights_by_hand() -> None:
    assert HealthWeights() == HealthWeights(40, 25, 15, 10, 10, 10)
    # silent for two cadences: contact 0.5 of 25 -> (90 - 12.5) / 90
    assert one(days_since_contact=[60.0]) == 86
    # one overdue promise: 7.5 of 15 lost -> 82.5 / 90
    assert one(overdue_promises=[1]) == 92
    # a resolved case not yet confirmed counts half an open one: 10 * 0.5 ** 0.5
    assert one(unconfirmed_cases=[1]) == round(100 * (80 + 10 * 0.5**0.5) / 90)
    assert one(open_cases=[1]) == round(100 * 85 / 90)


def test_inputs_out_of_range_are_clipped() -> None:
    assert one(activity=[1.5]) == 100
    assert one(activity=[-0.5]) == round(100 * 50 / 90)
    assert one(survey=[15.0]) == 100 and one(survey=[-3.0]) == round(100 * 90 / 100)
    assert one(survey=[5.0]) == 95  # an NPS answer out of 10
    assert one(review=[2.0]) == 100 and one(review=[-1.0]) == round(100 * 90 / 100)


def test_a_customer_with_nothing_known_scores_the_middle() -> None:
    only_activity = HealthWeights(activity=1, contact=0, promises=0, cases=0, survey=0, review=0)
    got = health_score(
        activity=[np.nan, 0.2], days_since_contact=[0, 0], cadence_days=[30, 30],
        overdue_promises=[0, 0], open_cases=[0, 0], unconfirmed_cases=[0, 0],
        weights=only_activity,
    )  # fmt: skip
    assert got.tolist() == [50, 20]


def test_weights_may_be_zero_but_not_negative_or_not_a_number() -> None:
    assert HealthWeights(contact=0).contact == 0
    for bad in (-1.0, math.nan, math.inf):
        with pytest.raises(InvalidInput, match="non-negative"):
            HealthWeights(review=bad)


def test_weights_parse_from_text() -> None:
    assert HealthWeights.parse(" activity = 50 ,, contact=20 ,") == HealthWeights(
        activity=50, contact=20
    )
    assert HealthWeights.parse("") == HealthWeights()
    with pytest.raises(InvalidInput, match="NAME=NUMBER"):
        HealthWeights.parse("activity")
    with pytest.raises(InvalidInput, match="is not a number"):
        HealthWeights.parse("activity=lots")


def test_weights_are_relative_however_small() -> None:
    tiny = HealthWeights(activity=0.4, contact=0.25, promises=0.15, cases=0.1, survey=0.1, review=0.1)
    assert one(activity=[0.5], weights=tiny) == one(activity=[0.5])  # 72 either way
    only = HealthWeights(activity=0.5, contact=0, promises=0, cases=0, survey=0, review=0)
    assert one(activity=[0.3], weights=only) == 30


def test_weights_are_fixed_once_made() -> None:
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        HealthWeights().activity = 0  # type: ignore[misc]
