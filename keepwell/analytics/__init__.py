"""Customer-base models: pure numpy/scipy, arrays in and results out.

`summary` turns an order list into one row per customer (frequency, recency, T,
monetary value, holdout counts); `btyd` fits the "buy till you die" models
(BG/NBD, Pareto/NBD, Gamma-Gamma) to those rows and predicts from them.
Nothing here touches the database or the network.
"""

from __future__ import annotations

from keepwell.analytics.btyd import (
    BetaGeoFitter,
    GammaGammaFitter,
    InsufficientData,
    NotFittedError,
    ParetoNBDFitter,
    explain_customer,
)
from keepwell.analytics.summary import Summary, summary_from_transactions

__all__ = [
    "BetaGeoFitter",
    "GammaGammaFitter",
    "InsufficientData",
    "NotFittedError",
    "ParetoNBDFitter",
    "Summary",
    "explain_customer",
    "summary_from_transactions",
]
