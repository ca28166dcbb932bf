"""summary_from_transactions: lifetimes' conventions (day-level aggregation, weeks = days / 7)."""

from __future__ import annotations

import collections
import datetime as dt

import numpy as np
import pytest

from keepwell.analytics import Summary, summary_from_transactions


def _orders() -> tuple[list[str], list[str], list[float]]:
    rows = [
        # customer A: two orders on the first day, two on 01-08, one on 01-15, holdout x2
        ("A", "2024-01-01", 10.0),
        ("A", "2024-01-01", 5.0),
        ("A", "2024-01-08", 20.0),
        ("A", "2024-01-08", 4.0),
        ("A", "2024-01-15", 6.0),
        ("A", "2024-02-05", 1.0),
        ("A", "2024-02-05", 1.0),
        ("A", "2024-02-20", 1.0),
        # customer B: one order only, on the last calibration day
        ("B", "2024-01-29", 7.0),
        # customer C: first order after the calibration period -> excluded
        ("C", "2024-02-02", 3.0),
        # customer D: an order after observation_end is ignored
        ("D", "2024-01-10", 8.0),
        ("D", "2024-03-01", 9.0),
    ]
    ids, dates, amounts = zip(*rows, strict=True)
    return list(ids), list(dates), list(amounts)


def test_hand_built_example_in_weeks() -> None:
    ids, dates, amounts = _orders()
    s = summary_from_transactions(
        ids, dates, amounts, "2024-01-29", unit="week", observation_end="2024-02-26"
    )
    assert list(s.customer_ids) == ["A", "B", "D"]
    assert list(s.frequency) == [2, 0, 0]  # distinct days - 1; same-day orders count once
    np.testing.assert_allclose(s.recency, [14 / 7, 0.0, 0.0])
    np.testing.assert_allclose(s.T, [28 / 7, 0.0, 19 / 7])
    # repeat days are worth 24 and 6 -> mean 15; the first day (15) is not counted
    np.testing.assert_allclose(s.monetary_value, [15.0, 0.0, 0.0])
    assert s.frequency_holdout is not None and s.duration_holdout is not None
    assert list(s.frequency_holdout) == [2, 0, 0]  # 02-05 twice counts once; 03-01 is out
    np.testing.assert_allclose(s.duration_holdout, [4.0, 4.0, 4.0])
    assert len(s) == 3 and s.unit_days == 7.0


def test_day_unit_and_no_holdout() -> None:
    ids, dates, amounts = _orders()
    s = summary_from_transactions(ids, dates, amounts, "2024-01-29", unit="day")
    np.testing.assert_allclose(s.recency, [14.0, 0.0, 0.0])
    np.testing.assert_allclose(s.T, [28.0, 0.0, 19.0])
    assert s.frequency_holdout is None and s.duration_holdout is None


def test_datetime64_dates_integer_ids_and_no_amounts() -> None:
    ids = np.array([7, 7, 3, 7, 3], dtype=np.int64)
    dates = np.array(
        ["2024-01-01T09:00", "2024-01-01T18:00", "2024-01-02", "2024-01-05", "2024-01-09"],
        dtype="datetime64[m]",
    )
    s = summary_from_transactions(ids, dates, None, np.datetime64("2024-01-10"), unit="day")
    assert list(s.customer_ids) == [3, 7]
    assert s.customer_ids.dtype == np.int64
    assert list(s.frequency) == [1, 1]
    np.testing.assert_allclose(s.recency, [7.0, 4.0])
    np.testing.assert_allclose(s.T, [8.0, 9.0])
    np.testing.assert_allclose(s.monetary_value, [0.0, 0.0])
    same = summary_from_transactions(
        ids, [str(d)[:10] for d in dates], None, dt.date(2024, 1, 10), unit="day"
    )
    np.testing.assert_array_equal(same.frequency, s.frequency)
    np.testing.assert_array_equal(same.T, s.T)


def test_nothing_before_calibration_end_gives_empty_summary() -> None:
    s = summary_from_transactions(
        ["a"], ["2024-05-01"], [1.0], "2024-01-01", observation_end="2024-12-31"
    )
    assert len(s) == 0
    assert s.frequency_holdout is not None and s.frequency_holdout.shape == (0,)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"observation_end": "2024-01-01"}, "observation_end"),
        ({"unit": "month"}, "unit"),
    ],
)
def test_bad_arguments(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        summary_from_transactions(["a"], ["2024-01-01"], [1.0], "2024-01-01", **kwargs)  # type: ignore[arg-type]


def test_mismatched_lengths_and_bad_values() -> None:
    with pytest.raises(ValueError, match="same length"):
        summary_from_transactions(["a", "b"], ["2024-01-01"], [1.0], "2024-02-01")
    with pytest.raises(ValueError, match="NaN"):
        summary_from_transactions(["a"], ["2024-01-01"], [float("nan")], "2024-02-01")
    with pytest.raises(ValueError, match="NaT"):
        summary_from_transactions(["a"], [np.datetime64("NaT", "D")], [1.0], "2024-02-01")


def test_cdnow_summary_matches_a_plain_python_count(
    cdnow_orders: np.ndarray, cdnow: Summary
) -> None:
    """The vectorised summary agrees with a straightforward per-customer computation."""
    cal, obs = dt.date(1997, 9, 30), dt.date(1998, 6, 30)
    per_day: dict[int, dict[dt.date, float]] = collections.defaultdict(
        lambda: collections.defaultdict(float)
    )
    for cid, day, amount in zip(
        cdnow_orders["customer_id"], cdnow_orders["order_date"], cdnow_orders["amount"], strict=True
    ):
        per_day[int(cid)][dt.date.fromisoformat(str(day))] += float(amount)

    assert len(cdnow) == len(per_day) == 2357
    for i, cid in enumerate(cdnow.customer_ids):
        days = per_day[int(cid)]
        cal_days = sorted(d for d in days if d <= cal)
        freq = len(cal_days) - 1
        assert cdnow.frequency[i] == freq
        assert cdnow.recency[i] == pytest.approx((cal_days[-1] - cal_days[0]).days / 7)
        assert cdnow.T[i] == pytest.approx((cal - cal_days[0]).days / 7)
        expected_value = np.mean([days[d] for d in cal_days[1:]]) if freq else 0.0
        assert cdnow.monetary_value[i] == pytest.approx(expected_value)
        assert cdnow.frequency_holdout is not None
        assert cdnow.frequency_holdout[i] == sum(1 for d in days if cal < d <= obs)


def test_cdnow_totals(cdnow: Summary) -> None:
    assert cdnow.frequency_holdout is not None and cdnow.duration_holdout is not None
    assert int((cdnow.frequency > 0).sum()) == 946  # repeat buyers in the calibration period
    assert int(cdnow.frequency.sum()) == 2457  # repeat purchase days, weeks 1-39
    assert int(cdnow.frequency_holdout.sum()) == 1882  # purchase days, weeks 40-78
    np.testing.assert_allclose(cdnow.duration_holdout, 39.0)
    assert cdnow.T.max() == pytest.approx(272 / 7)  # first purchase 1997-01-01
    # customer 1 of the published summary file: x = 2, t_x = 30.43, T = 38.86
    assert (cdnow.frequency[0], round(cdnow.recency[0], 2), round(cdnow.T[0], 2)) == (
        2,
        30.43,
        38.86,
    )


def test_vectorised_on_a_larger_synthetic_order_list() -> None:
    rng = np.random.default_rng(3)
    n = 200_000
    ids = rng.integers(0, 20_000, n)
    dates = np.datetime64("2020-01-01") + rng.integers(0, 800, n)
    amounts = rng.gamma(2.0, 20.0, n)
    s = summary_from_transactions(ids, dates, amounts, "2021-06-30", observation_end="2022-03-10")
    str_ids = summary_from_transactions(
        ids.astype(str), dates, amounts, "2021-06-30", observation_end="2022-03-10"
    )
    order = np.argsort(s.customer_ids.astype(str))
    np.testing.assert_array_equal(str_ids.frequency, s.frequency[order])
    np.testing.assert_allclose(str_ids.monetary_value, s.monetary_value[order])
    assert s.frequency_holdout is not None
    # every distinct (customer, day) up to observation_end of a kept customer is counted once
    day = (dates - np.datetime64("2020-01-01")).astype(np.int64)
    cal, obs = 546, 799  # 2021-06-30 and 2022-03-10 as day numbers
    kept_customers = np.unique(ids[day <= cal])
    in_window = (day <= obs) & np.isin(ids, kept_customers)
    pairs = np.unique(ids[in_window] * 10_000 + day[in_window])
    assert len(pairs) == int(s.frequency.sum()) + len(s) + int(s.frequency_holdout.sum())
    np.testing.assert_array_equal(s.customer_ids, kept_customers)
