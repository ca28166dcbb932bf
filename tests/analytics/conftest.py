"""Shared fixtures: the CDNOW sample (Fader, Hardie & Lee 2005), summarised once per session."""

from __future__ import annotations

import numpy as np
import pytest

from keepwell.analytics import Summary, summary_from_transactions
from tests.conftest import CDNOW as CDNOW_CSV

CALIBRATION_END = "1997-09-30"
OBSERVATION_END = "1998-06-30"


def load_cdnow() -> np.ndarray:
    assert CDNOW_CSV.is_file(), f"test data missing: {CDNOW_CSV}"
    return np.genfromtxt(CDNOW_CSV, delimiter=",", names=True, dtype=None, encoding="utf-8")


@pytest.fixture(scope="session")
def cdnow_orders() -> np.ndarray:
    return load_cdnow()


@pytest.fixture(scope="session")
def cdnow(cdnow_orders: np.ndarray) -> Summary:
    return summary_from_transactions(
        cdnow_orders["customer_id"],
        cdnow_orders["order_date"],
        cdnow_orders["amount"],
        CALIBRATION_END,
        unit="week",
        observation_end=OBSERVATION_END,
    )
