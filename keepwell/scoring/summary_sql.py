"""The per-customer summary of the order history, computed by the database.

The same numbers as `keepwell.analytics.summary_from_transactions` (see its docstring
for the definitions), but the scan of the orders is one SQL statement, so SQLite or
PostgreSQL does it and only one row per customer travels to Python:

1. orders are grouped per customer and calendar day (UTC): a day's orders are one
   purchase, worth their sum;
2. those days are grouped per customer: the number of days in the calibration period
   (frequency = days − 1), the first and last of them, their total value and the
   first day's value (so the mean of the *repeat* days is (total − first) / frequency),
   and the number of days in the holdout period.

Amounts are integer minor units in the database; the summary's monetary values are in
major units (divided by `minor_per_unit`, 100 for cents), so parameters read like the
published ones. All orders are taken to be in one currency.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.engine import Connection

from keepwell.analytics.summary import UNIT_DAYS, Summary, Unit
from keepwell.db import sqlite_timestamp, table_of
from keepwell.orders.models import Order

EPOCH = dt.date(1970, 1, 1)
FloatArray = NDArray[np.float64]


def _statements(dialect: str) -> tuple[str, str]:
    """(the calibration summary, the holdout day counts) for this database.

    Calibration rows: customer id, purchase days, first and last purchase day (days
    since 1970-01-01), total value, the first day's value. Holdout rows: customer id,
    purchase days in the holdout period.
    """
    orders = table_of(Order).name
    # only constant SQL fragments are formatted in; the dates are bound parameters
    if dialect == "sqlite":
        # One pass over the (customer_id, ordered_at, amount_minor) index in its order:
        # no sort. UTCDateTime is ISO text here, so a day is its first ten characters.
        # `+ordered_at` keeps the date a filter on that pass (not a skip-scan of the
        # index, one seek per customer). The first day's value is an index seek per
        # repeat customer.
        number = "CAST(julianday(substr({}, 1, 10)) - 2440587.5 AS INTEGER)"
        calibration = f"""
            WITH per AS (
                SELECT customer_id, MIN(ordered_at) AS first_at, MAX(ordered_at) AS last_at,
                       COUNT(DISTINCT substr(ordered_at, 1, 10)) AS cal_days,
                       SUM(amount_minor) AS cal_value
                FROM {orders}
                WHERE +ordered_at < :cal_end_at
                GROUP BY customer_id
            )
            SELECT customer_id, cal_days, {number.format("first_at")},
                   {number.format("last_at")}, cal_value,
                   CASE WHEN cal_days > 1 THEN (
                       SELECT SUM(o.amount_minor) FROM {orders} AS o
                       WHERE o.customer_id = per.customer_id
                         AND o.ordered_at >= substr(per.first_at, 1, 10)
                         AND o.ordered_at < date(per.first_at, '+1 day')
                   ) ELSE cal_value END
            FROM per
        """  # noqa: S608
        holdout = f"""
            SELECT customer_id, COUNT(DISTINCT substr(ordered_at, 1, 10))
            FROM {orders}
            WHERE +ordered_at >= :cal_end_at AND +ordered_at < :end_at
            GROUP BY customer_id
        """  # noqa: S608
        return calibration, holdout
    # PostgreSQL: the same shape: one pass over the index in its order (a streaming
    # group per customer), then an index seek for the first day's value
    day = "CAST(timezone('UTC', ordered_at) AS date)"
    midnight = "timezone('UTC', date_trunc('day', timezone('UTC', per.first_at)))"
    number = "(CAST(timezone('UTC', {}) AS date) - DATE '1970-01-01')"
    calibration = f"""
        WITH per AS (
            SELECT customer_id, MIN(ordered_at) AS first_at, MAX(ordered_at) AS last_at,
                   COUNT(DISTINCT {day}) AS cal_days, SUM(amount_minor) AS cal_value
            FROM {orders}
            WHERE ordered_at < :cal_end_at
            GROUP BY customer_id
        )
        SELECT customer_id, cal_days, {number.format("first_at")}, {number.format("last_at")},
               cal_value,
               CASE WHEN cal_days > 1 THEN (
                   SELECT SUM(o.amount_minor) FROM {orders} AS o
                   WHERE o.customer_id = per.customer_id
                     AND o.ordered_at >= {midnight}
                     AND o.ordered_at < {midnight} + interval '1 day'
               ) ELSE cal_value END
        FROM per
    """  # noqa: S608
    holdout = f"""
        SELECT customer_id, COUNT(DISTINCT {day})
        FROM {orders}
        WHERE ordered_at >= :cal_end_at AND ordered_at < :end_at
        GROUP BY customer_id
    """  # noqa: S608
    return calibration, holdout


def summary_from_orders(
    conn: Connection,
    calibration_end: dt.date,
    *,
    unit: Unit = "week",
    observation_end: dt.date | None = None,
    minor_per_unit: float = 100.0,
) -> Summary:
    """One row per customer whose first purchase is on or before `calibration_end`.

    With `observation_end`, the purchase days in (calibration_end, observation_end] are
    counted as the holdout (`frequency_holdout`, `duration_holdout`). Customer ids are
    Keepwell's (`customers.id`), ascending.
    """
    return order_summary(
        conn, calibration_end, unit=unit, observation_end=observation_end,
        minor_per_unit=minor_per_unit,
    ).summary  # fmt: skip


@dataclass(frozen=True, eq=False)
class OrderSummary:
    """The model summary plus what RFM also needs, aligned with `summary.customer_ids`."""

    summary: Summary
    total_value: FloatArray  # all purchase days of the calibration period, major units

    @property
    def average_value(self) -> FloatArray:
        """Mean value of a purchase day (the first one included)."""
        days = self.summary.frequency + 1
        result: FloatArray = self.total_value / np.maximum(days, 1)
        return result


def order_summary(
    conn: Connection,
    calibration_end: dt.date,
    *,
    unit: Unit = "week",
    observation_end: dt.date | None = None,
    minor_per_unit: float = 100.0,
) -> OrderSummary:
    """`summary_from_orders` with the customers' total purchase value as well."""
    if unit not in UNIT_DAYS:
        raise ValueError(f"unit must be 'week' or 'day', not {unit!r}")
    if observation_end is not None and observation_end <= calibration_end:
        raise ValueError("observation_end must be after calibration_end")

    def moment(day: dt.date) -> Any:
        at = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC)
        return sqlite_timestamp(at) if conn.dialect.name == "sqlite" else at

    calibration, holdout = _statements(conn.dialect.name)
    rows = _fetch(conn, calibration, {"cal_end_at": moment(calibration_end)})
    table = np.array(rows, dtype=np.int64).reshape(len(rows), 6)
    table = table[np.argsort(table[:, 0], kind="stable")]
    held: NDArray[np.int64] | None = None
    if observation_end is not None:
        found = np.array(
            _fetch(
                conn,
                holdout,
                {"cal_end_at": moment(calibration_end), "end_at": moment(observation_end)},
            ),
            dtype=np.int64,
        ).reshape(-1, 2)
        held = np.zeros(table.shape[0], dtype=np.int64)
        at = np.searchsorted(table[:, 0], found[:, 0])
        inside = at < table.shape[0]
        inside[inside] = table[at[inside], 0] == found[inside, 0]
        held[at[inside]] = found[inside, 1]
    return _to_summary(table, held, calibration_end, observation_end, unit, minor_per_unit)


def _fetch(conn: Connection, sql: str, params: dict[str, Any]) -> list[Any]:
    """Rows as plain tuples from the driver's own cursor (a million rows, no Row objects)."""
    cursor = conn.connection.cursor()
    try:
        cursor.execute(_driver(conn, sql, params), params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def fetch_rows(conn: Connection, statement: Any) -> list[tuple[Any, ...]]:
    """A SQLAlchemy statement's rows as plain tuples, through the driver's own cursor.

    For a million rows this is several times faster than Row objects, and NumPy turns
    plain tuples into an array quickly (Row objects take it seconds). Bound values are
    handed to the driver as they are: use types the driver knows (numbers, strings, and
    on PostgreSQL aware datetimes).
    """
    compiled = statement.compile(dialect=conn.dialect)
    params = compiled.params
    args: Any = params
    if compiled.positiontup is not None:
        args = [params[name] for name in compiled.positiontup]
    cursor = conn.connection.cursor()
    try:
        cursor.execute(str(compiled), args)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _driver(conn: Connection, sql: str, params: dict[str, Any]) -> str:
    """Named parameters in the driver's own style (`:name` or `%(name)s`)."""
    if conn.dialect.paramstyle == "pyformat":
        for name in params:
            sql = sql.replace(f":{name}", f"%({name})s")
    return sql


def _to_summary(
    table: NDArray[np.int64],
    held: NDArray[np.int64] | None,
    calibration_end: dt.date,
    observation_end: dt.date | None,
    unit: Unit,
    minor_per_unit: float,
) -> OrderSummary:
    unit_days = UNIT_DAYS[unit]
    n = table.shape[0]
    ids, cal_days, first, last, cal_value, first_value = table.T
    frequency = cal_days - 1
    monetary = np.zeros(n, dtype=np.float64)
    repeaters = frequency > 0
    monetary[repeaters] = (
        (cal_value[repeaters] - first_value[repeaters]) / frequency[repeaters] / minor_per_unit
    )
    cal = (calibration_end - EPOCH).days
    frequency_holdout = duration_holdout = None
    if observation_end is not None and held is not None:
        frequency_holdout = held
        duration_holdout = np.full(n, (observation_end - calibration_end).days / unit_days)
    summary = Summary(
        customer_ids=ids.astype(np.int64),
        frequency=frequency.astype(np.int64),
        recency=(last - first).astype(np.float64) / unit_days,
        T=(cal - first).astype(np.float64) / unit_days,
        monetary_value=monetary,
        unit=unit,
        calibration_end=np.datetime64(calibration_end, "D"),
        observation_end=None if observation_end is None else np.datetime64(observation_end, "D"),
        frequency_holdout=frequency_holdout,
        duration_holdout=duration_holdout,
    )
    return OrderSummary(summary, cal_value.astype(np.float64) / minor_per_unit)
