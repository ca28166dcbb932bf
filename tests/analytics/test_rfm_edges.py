"""RFM at its edges: no customers, one customer, and a result that stays as computed."""

from __future__ import annotations

import dataclasses

import pytest

from keepwell.analytics.rfm import quantile_scores, rfm


def test_no_customers_give_empty_scores_and_segments() -> None:
    assert quantile_scores([]).tolist() == []
    result = rfm([], [], [])
    assert result.r.tolist() == result.f.tolist() == result.m.tolist() == []
    assert result.segment.tolist() == []


def test_a_single_customer_beats_nobody_and_scores_1() -> None:
    assert quantile_scores([42.0]).tolist() == [1]
    result = rfm([3], [7], [120.0])
    assert (result.r.tolist(), result.f.tolist(), result.m.tolist()) == ([1], [1], [1])
    assert result.segment.tolist() == ["lost"]


def test_scores_need_one_value_per_customer() -> None:
    with pytest.raises(ValueError, match="1-D"):
        quantile_scores([[1, 2], [3, 4]])


def test_a_result_is_fixed_once_computed_and_can_be_kept_in_a_set() -> None:
    result = rfm([1, 2], [3, 4], [5.0, 6.0])
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.r = result.f  # type: ignore[misc]
    # compared by identity (its fields are arrays, which have no single truth value)
    assert result in {result}
    assert result != rfm([1, 2], [3, 4], [5.0, 6.0])
