"""One row per customer from an order list: the RFM summary the customer models need.

`summary_from_transactions` follows the conventions of the `lifetimes` package's
`summary_data_from_transaction_data(..., freq="D", freq_multiplier=7)`:

* orders are first aggregated per customer and calendar day (several orders on one
  day are one purchase, worth the sum of that day's orders);
* ``frequency`` is the number of *repeat* purchase days (distinct days − 1);
* ``recency`` is the time from the first to the last purchase day and ``T`` the time
  from the first purchase day to the end of the calibration period, both measured in
  days and divided by 7 when ``unit="week"`` (so they are not rounded to whole weeks);
* ``monetary_value`` is the mean value of the repeat purchase days (0 without repeats);
* with an ``observation_end``, ``frequency_holdout`` counts the distinct purchase days
  in (calibration_end, observation_end] and ``duration_holdout`` is that period's length.

Only customers whose first purchase falls on or before ``calibration_end`` are kept.
Everything is vectorised (one sort of the order list), so ten million orders take a
few seconds.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

Unit = Literal["week", "day"]
DateLike = str | _dt.date | np.datetime64

UNIT_DAYS: dict[str, float] = {"week": 7.0, "day": 1.0}

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class Summary:
    """Per-customer summary, all arrays aligned with `customer_ids` (sorted ascending)."""

    customer_ids: NDArray[Any]
    frequency: IntArray
    recency: FloatArray
    T: FloatArray
    monetary_value: FloatArray
    unit: Unit
    calibration_end: np.datetime64
    observation_end: np.datetime64 | None = None
    frequency_holdout: IntArray | None = None
    duration_holdout: FloatArray | None = None

    def __len__(self) -> int:
        return int(self.customer_ids.shape[0])

    @property
    def unit_days(self) -> float:
        """Length of one time unit in days (7 for weeks, 1 for days)."""
        return UNIT_DAYS[self.unit]


def _to_day(value: DateLike) -> np.datetime64:
    as_day = np.asarray(value).astype("datetime64[D]")
    if as_day.shape != ():
        raise ValueError("expected a single date")
    day = np.datetime64(as_day.item(), "D")
    if np.isnat(day):
        raise ValueError("date must not be NaT")
    return day


def _to_day_numbers(dates: ArrayLike) -> IntArray:
    """Calendar days since 1970-01-01 (int64) from datetime64 / ISO strings / dates."""
    arr = np.asarray(dates)
    if arr.dtype.kind != "M":
        try:
            arr = arr.astype("datetime64[D]")
        except (TypeError, ValueError):
            # datetimes or "YYYY-MM-DD HH:MM" strings: parse finer, then truncate to the day
            arr = arr.astype("datetime64[us]")
    days = arr.astype("datetime64[D]")
    if days.size and np.isnat(days).any():
        raise ValueError("dates contain missing values (NaT)")
    return days.astype(np.int64)


def summary_from_transactions(
    customer_ids: ArrayLike,
    dates: ArrayLike,
    amounts: ArrayLike | None,
    calibration_end: DateLike,
    unit: Unit = "week",
    observation_end: DateLike | None = None,
) -> Summary:
    """Summarise an order list (one row per order) into one row per customer.

    `customer_ids`, `dates` and `amounts` are equally long 1-D arrays; `dates` may be
    datetime64 (any unit: truncated to the day), ISO date strings or `datetime.date`s.
    `amounts` may be None (monetary values are then 0). See the module docstring for
    the exact definitions, which match `lifetimes` with day-level aggregation.
    """
    if unit not in UNIT_DAYS:
        raise ValueError(f"unit must be 'week' or 'day', not {unit!r}")
    unit_days = UNIT_DAYS[unit]
    ids = np.asarray(customer_ids)
    days = _to_day_numbers(dates)
    if ids.ndim != 1 or days.ndim != 1:
        raise ValueError("customer_ids and dates must be 1-D arrays")
    if ids.shape[0] != days.shape[0]:
        raise ValueError("customer_ids and dates must have the same length")
    if amounts is None:
        values = np.zeros(days.shape[0], dtype=np.float64)
    else:
        values = np.asarray(amounts, dtype=np.float64)
        if values.shape != days.shape:
            raise ValueError("amounts must have the same length as dates")
        if not np.isfinite(values).all():
            raise ValueError("amounts contain NaN or infinite values")

    cal_day = _to_day(calibration_end)
    cal = int(cal_day.astype(np.int64))
    obs_day: np.datetime64 | None = None
    last = cal
    if observation_end is not None:
        obs_day = _to_day(observation_end)
        last = int(obs_day.astype(np.int64))
        if last <= cal:
            raise ValueError("observation_end must be after calibration_end")

    keep = days <= last
    if not keep.all():
        ids, days, values = ids[keep], days[keep], values[keep]

    if days.shape[0] == 0:
        return _empty(ids.dtype, unit, cal_day, obs_day)

    # One int64 key per (customer, day), customer-major, so a single sort groups both.
    dmin = int(days.min())
    span = last - dmin + 1
    offsets = days - dmin
    ids_sorted: NDArray[Any] | None = None
    if ids.dtype.kind in "iu":
        id_min = int(ids.min())
        id_range = int(ids.max()) - id_min + 1
        if id_range * span < 2**62:
            codes = ids.astype(np.int64) - id_min
        else:
            ids_sorted, codes = np.unique(ids, return_inverse=True)
    else:
        ids_sorted, codes = np.unique(ids, return_inverse=True)
    key = codes.astype(np.int64) * span + offsets

    order = np.argsort(key)
    key = key[order]
    values = values[order]
    pair_start = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    pair_key = key[pair_start]
    pair_value = np.add.reduceat(values, pair_start)
    pair_cust = pair_key // span
    pair_day = pair_key % span + dmin

    # Calibration period: rows are sorted by customer, then day.
    in_cal = pair_day <= cal
    c_cust = pair_cust[in_cal]
    c_day = pair_day[in_cal]
    c_value = pair_value[in_cal]
    if c_cust.shape[0] == 0:
        return _empty(ids.dtype, unit, cal_day, obs_day)
    c_start = np.flatnonzero(np.concatenate(([True], c_cust[1:] != c_cust[:-1])))
    c_end = np.concatenate((c_start[1:], [c_cust.shape[0]])) - 1
    cust_codes = c_cust[c_start]
    first_day = c_day[c_start]
    last_day = c_day[c_end]
    frequency = (c_end - c_start).astype(np.int64)
    repeat_value = c_value.copy()
    repeat_value[c_start] = 0.0
    repeat_sum = np.add.reduceat(repeat_value, c_start)
    monetary = np.zeros(cust_codes.shape[0], dtype=np.float64)
    repeaters = frequency > 0
    monetary[repeaters] = repeat_sum[repeaters] / frequency[repeaters]

    if ids_sorted is None:
        out_ids = (cust_codes + int(ids.min())).astype(ids.dtype)
    else:
        out_ids = ids_sorted[cust_codes]

    recency = (last_day - first_day).astype(np.float64) / unit_days
    T = (cal - first_day).astype(np.float64) / unit_days

    frequency_holdout: IntArray | None = None
    duration_holdout: FloatArray | None = None
    if obs_day is not None:
        h_cust = pair_cust[~in_cal]
        pos = np.searchsorted(cust_codes, h_cust)
        pos_ok = pos < cust_codes.shape[0]
        pos_ok[pos_ok] = cust_codes[pos[pos_ok]] == h_cust[pos_ok]
        frequency_holdout = np.bincount(pos[pos_ok], minlength=cust_codes.shape[0]).astype(np.int64)
        duration_holdout = np.full(cust_codes.shape[0], (last - cal) / unit_days)

    return Summary(
        customer_ids=out_ids,
        frequency=frequency,
        recency=recency,
        T=T,
        monetary_value=monetary,
        unit=unit,
        calibration_end=cal_day,
        observation_end=obs_day,
        frequency_holdout=frequency_holdout,
        duration_holdout=duration_holdout,
    )


def _empty(
    id_dtype: np.dtype[Any], unit: Unit, cal_day: np.datetime64, obs_day: np.datetime64 | None
) -> Summary:
    ints = np.zeros(0, dtype=np.int64)
    floats = np.zeros(0, dtype=np.float64)
    return Summary(
        customer_ids=np.zeros(0, dtype=id_dtype),
        frequency=ints,
        recency=floats,
        T=floats,
        monetary_value=floats,
        unit=unit,
        calibration_end=cal_day,
        observation_end=obs_day,
        frequency_holdout=None if obs_day is None else ints.copy(),
        duration_holdout=None if obs_day is None else floats.copy(),
    )
