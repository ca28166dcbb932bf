"""The CDNOW sample with zero-amount orders added, as real exports have them (free
samples, 100 % discounts: the full CDNOW data set has 80).

Three kinds, all in the calibration period (to 1997-09-30):

* ONE_TIMERS one-time buyers get a free second order 20 days after their first: repeat
  customers whose repeat purchases are worth nothing (mean repeat value 0);
* DILUTED repeat buyers get a free order the day after their first: one more repeat
  purchase day, worth 0, which lowers their mean repeat value;
* SAME_DAY customers get a free order on a day they paid for something: no change.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.conftest import CDNOW

ONE_TIMERS = 10
DILUTED = 5
SAME_DAY = 5


def load() -> np.ndarray:
    return np.genfromtxt(CDNOW, delimiter=",", names=True, dtype=None, encoding="utf-8")


def free_orders(orders: np.ndarray) -> list[tuple[int, str]]:
    """(customer id, ISO day) of the zero-amount orders to add."""
    ids = orders["customer_id"]
    days = orders["order_date"].astype("datetime64[D]")
    unique, counts = np.unique(ids, return_counts=True)
    first = {int(c): days[ids == c].min() for c in unique}
    day_sets = {int(c): set(days[ids == c].tolist()) for c in unique}
    late = np.datetime64("1997-09-01")
    once = [int(c) for c, n in zip(unique, counts, strict=True) if n == 1 and first[int(c)] < late]
    repeat = [
        int(c)
        for c, n in zip(unique, counts, strict=True)
        if n >= 3 and (first[int(c)] + 1).tolist() not in day_sets[int(c)]
    ]
    added = [(c, str(first[c] + 20)) for c in once[:ONE_TIMERS]]
    added += [(c, str(first[c] + 1)) for c in repeat[:DILUTED]]
    added += [(c, str(first[c])) for c in repeat[-SAME_DAY:]]
    return added


def with_free_orders() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(customer ids, days, amounts): the sample plus its free orders."""
    orders = load()
    added = free_orders(orders)
    ids = np.concatenate([orders["customer_id"], [c for c, _ in added]])
    days = np.concatenate(
        [orders["order_date"].astype("datetime64[D]"), np.array([d for _, d in added], "M8[D]")]
    )
    amounts = np.concatenate([orders["amount"].astype(np.float64), np.zeros(len(added))])
    return ids, days, amounts


def write_csv(path: Path) -> Path:
    """The sample plus its free orders as an order export (the sample's columns)."""
    orders = load()
    lines = [CDNOW.read_text().rstrip("\n")]
    lines += [f"{c},{d},1,0.00" for c, d in free_orders(orders)]
    path.write_text("\n".join(lines) + "\n")
    return path
