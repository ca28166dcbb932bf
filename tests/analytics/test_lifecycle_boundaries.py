"""Each lifecycle rule at its threshold: the day or the activity where the stage turns."""

from __future__ import annotations

import numpy as np

from keepwell.analytics.lifecycle import STAGES, lifecycle_stage

NAN = np.nan


def stage(
    purchase_days: float,
    first: float,
    last: float,
    gap: float = NAN,
    activity: float = 0.9,
    advocate: bool | None = None,
) -> str:
    got = lifecycle_stage(
        purchase_days=[purchase_days], days_since_first=[first], days_since_last=[last],
        usual_gap_days=[gap], activity=[activity],
        advocate=None if advocate is None else [advocate],
    )  # fmt: skip
    return str(got[0])


def test_onboarding_lasts_thirty_days() -> None:
    assert stage(1, first=29, last=29) == "onboarding"
    assert stage(1, first=30, last=30) == "adopting"


def test_lapsed_needs_little_chance_and_more_than_ninety_days() -> None:
    assert stage(1, first=200, last=91, activity=0.14) == "lapsed"
    assert stage(1, first=200, last=90, activity=0.14) == "at_risk"  # not yet 90 days over
    assert stage(1, first=200, last=91, activity=0.15) == "at_risk"  # activity at the bar


def test_at_risk_by_activity_or_by_a_long_silence() -> None:
    assert stage(1, first=200, last=10, activity=0.49) == "at_risk"
    assert stage(1, first=200, last=10, activity=0.5) == "adopting"
    # a repeat buyer silent for more than twice the usual gap
    assert stage(2, first=200, last=61, gap=30) == "at_risk"
    assert stage(2, first=200, last=60, gap=30) == "adopting"
    # one purchase day has no usual gap: silence alone does not make them at risk
    assert stage(1, first=400, last=400, gap=30) == "adopting"


def test_advocates_and_repeat_buyers() -> None:
    assert stage(1, first=200, last=10, advocate=True) == "advocate"
    assert stage(3, first=200, last=10) == "repeat"
    assert stage(2, first=200, last=10) == "adopting"
    assert stage(3, first=200, last=10, advocate=False) == "repeat"


def test_no_purchase_is_a_prospect_whatever_else_is_known() -> None:
    assert stage(0, first=NAN, last=NAN, activity=NAN) == "prospect"
    assert stage(0, first=5, last=5, activity=0.0, advocate=True) == "prospect"


def test_every_stage_is_named_once() -> None:
    assert len(set(STAGES)) == len(STAGES) == 7
    assert STAGES[0] == "prospect" and STAGES[-2:] == ("at_risk", "lapsed")
