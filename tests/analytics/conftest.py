"""Shared fixtures: the CDNOW sample (Fader, Hardie & Lee 2005), summarised once per session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from keepwell.analytics import Summary, summary_from_transactions

# The repo is checked out with `shared/` beside it (/work/main and /work/shared).
CDNOW_CSV = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "cdnow_sample.csv"
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
